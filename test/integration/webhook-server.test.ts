/**
 * The admission server over real HTTPS on a free loopback port, with test rules and an in-memory
 * lookup: denials, warnings, patches, readiness, metrics, certificate reload, bad input.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { memoryLookup, type MemoryLookup } from '../../webhook/cache/index.ts';
import type { VMClass } from '../../api/objects.ts';
import type { Validator } from '../../webhook/framework/types.ts';
import {
  applyJsonPatch, createWebhookMetrics, startWebhookServer, type RuleSet, type WebhookServer,
} from '../../webhook/server/index.ts';
import {
  aReview, aVirtualMachine, aVmClass, get, makeTestTls, post, signServingCert, TEST_RULES, type TestTls,
} from '../support/webhook-fixtures.ts';

const VALIDATE = '/validate-infra-virtrigaud-io-v1beta1';
const MUTATE = '/mutate-infra-virtrigaud-io-v1beta1';

interface ReviewReply {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    warnings?: string[];
    patchType?: string;
    patch?: string;
    status?: { code: number; reason: string; message: string; details?: { causes: Array<{ field: string; reason: string; message: string }> } };
  };
}

async function started(tls: TestTls, rules: RuleSet, lookup: MemoryLookup, ready: () => boolean): Promise<WebhookServer> {
  return startWebhookServer({
    host: '127.0.0.1', port: 0, certFile: tls.cert, keyFile: tls.key,
    rules, lookup, ready, metrics: createWebhookMetrics(), tlsPollMs: 200,
  });
}

describe('webhook server (HTTPS, test rules)', function () {
  this.timeout(20_000);
  let tls: TestTls;
  let ca: Buffer;
  let server: WebhookServer;
  let lookup: MemoryLookup;
  let ready = true;
  const agent = new Agent({ keepAlive: true });

  const review = async (path: string, body: unknown): Promise<ReviewReply> => {
    const reply = await post(`${server.url}${path}`, body, { ca, agent });
    assert.equal(reply.status, 200, reply.body);
    const parsed = JSON.parse(reply.body) as ReviewReply;
    assert.equal(parsed.apiVersion, 'admission.k8s.io/v1');
    assert.equal(parsed.kind, 'AdmissionReview');
    return parsed;
  };
  const patchOf = (r: ReviewReply) => JSON.parse(Buffer.from(r.response.patch ?? '', 'base64').toString('utf8')) as Array<{ op: string; path: string; value?: unknown }>;

  before(async () => {
    tls = await makeTestTls();
    ca = readFileSync(tls.caCert);
    lookup = memoryLookup({ vmClasses: [aVmClass('small')] });
    server = await started(tls, TEST_RULES, lookup, () => ready);
  });
  after(async () => {
    agent.destroy();
    await server?.close();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  describe('validation', () => {
    it('allows a valid VMClass, echoing the uid, with no warnings and no patch', async () => {
      const r = await review(`${VALIDATE}-vmclass`, aReview(aVmClass('ok'), { uid: 'u-1' }));
      assert.deepEqual(r.response, { uid: 'u-1', allowed: true });
    });

    it('denies a VMClass with cpu over 64: 422 Invalid, worded like the apiserver, with the cause', async () => {
      const r = await review(`${VALIDATE}-vmclass`, aReview(aVmClass('big', { cpu: 100 })));
      assert.equal(r.response.allowed, false);
      assert.equal(r.response.status?.code, 422);
      assert.equal(r.response.status?.reason, 'Invalid');
      assert.equal(r.response.status?.message, 'VMClass "big" is invalid: spec.cpu: Invalid value: 100: must be at most 64');
      assert.deepEqual(r.response.status?.details?.causes, [
        { field: 'spec.cpu', reason: 'FieldValueInvalid', message: 'Invalid value: 100: must be at most 64' },
      ]);
    });

    it('lists every cause of a denial in the message and in details.causes', async () => {
      const vm = aVirtualMachine('web', { disks: ['a', 'b', 'a', 'b'].map((name) => ({ name, sizeGiB: 10 })) });
      const r = await review(`${VALIDATE}-virtualmachine`, aReview(vm));
      assert.equal(r.response.status?.message,
        'VirtualMachine "web" is invalid: [spec.disks[2].name: Duplicate value: "a", spec.disks[3].name: Duplicate value: "b"]');
      assert.deepEqual(r.response.status?.details?.causes?.map((c) => c.field), ['spec.disks[2].name', 'spec.disks[3].name']);
    });

    it('allows with warnings (kubectl prints them): a class missing from the cache, a VMClass over 32 CPUs', async () => {
      const vm = await review(`${VALIDATE}-virtualmachine`, aReview(aVirtualMachine('web', { classRef: { name: 'huge' } })));
      assert.equal(vm.response.allowed, true);
      assert.deepEqual(vm.response.warnings, ['VMClass "huge" not found in namespace "ns"; the VM waits for it']);
      const cls = await review(`${VALIDATE}-vmclass`, aReview(aVmClass('wide', { cpu: 48 })));
      assert.deepEqual(cls.response.warnings, ['spec.cpu 48 is over 32: few hosts fit this class']);
    });

    it('reads the lookup from memory: the class warning goes once the class is in the cache', async () => {
      lookup.stores.vmClasses.put(aVmClass('late'));
      const r = await review(`${VALIDATE}-virtualmachine`, aReview(aVirtualMachine('web', { classRef: { name: 'late' } })));
      assert.deepEqual(r.response, { uid: r.response.uid, allowed: true });
    });

    it('judges DELETE on the stored object: a VMClass still used by a VM is refused', async () => {
      lookup.stores.virtualMachines.put(aVirtualMachine('user-1', { classRef: { name: 'small' } }));
      const r = await review(`${VALIDATE}-vmclass`, aReview(aVmClass('small'), { operation: 'DELETE' }));
      assert.equal(r.response.allowed, false);
      assert.match(r.response.status?.message ?? '', /^VMClass "small" is invalid: metadata.name: Forbidden: VMClass is used by user-1$/);
      const free = await review(`${VALIDATE}-vmclass`, aReview(aVmClass('unused'), { operation: 'DELETE' }));
      assert.equal(free.response.allowed, true);
    });

    it('allows kinds without rules and CONNECT', async () => {
      const snap = { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMSnapshot', metadata: { name: 's', namespace: 'ns' }, spec: { vmRef: { name: 'x' } } };
      assert.equal((await review(`${VALIDATE}-vmsnapshot`, aReview(snap))).response.allowed, true);
      assert.equal((await review(`${VALIDATE}-vmclass`, aReview(aVmClass('c'), { operation: 'CONNECT' }))).response.allowed, true);
    });

    it('refuses an object without a spec map, naming the field', async () => {
      const broken = { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMClass', metadata: { name: 'nospec', namespace: 'ns' } };
      const r = await review(`${VALIDATE}-vmclass`, aReview(broken));
      assert.equal(r.response.status?.message, 'VMClass "nospec" is invalid: spec: Required value: every VMClass needs a spec (a map)');
    });
  });

  describe('mutation', () => {
    it('answers a JSON patch (RFC 6902) of the defaults, escaping / in keys, that the apiserver can apply', async () => {
      const vm = aVirtualMachine('web');
      vm.metadata.labels = { app: 'web' };
      const r = await review(`${MUTATE}-virtualmachine`, aReview(vm));
      assert.equal(r.response.allowed, true);
      assert.equal(r.response.patchType, 'JSONPatch');
      const patch = patchOf(r);
      assert.deepEqual(patch, [
        { op: 'add', path: '/metadata/labels/virtrigaud.io~1class', value: 'small' },
        { op: 'add', path: '/spec/powerState', value: 'On' },
      ]);
      const mutated = applyJsonPatch(vm, patch as never) as typeof vm;
      assert.equal(mutated.spec.powerState, 'On');
      assert.deepEqual(mutated.metadata.labels, { app: 'web', 'virtrigaud.io/class': 'small' });
    });

    it('adds a missing map whole', async () => {
      const r = await review(`${MUTATE}-virtualmachine`, aReview(aVirtualMachine('web', { powerState: 'Off' })));
      assert.deepEqual(patchOf(r), [{ op: 'add', path: '/metadata/labels', value: { 'virtrigaud.io/class': 'small' } }]);
    });

    it('sends no patch when nothing changed', async () => {
      const vm = aVirtualMachine('web', { powerState: 'Off' });
      vm.metadata.labels = { 'virtrigaud.io/class': 'mine' };
      const r = await review(`${MUTATE}-virtualmachine`, aReview(vm));
      assert.deepEqual(r.response, { uid: r.response.uid, allowed: true });
    });

    it('never patches DELETE, and kinds without mutators pass untouched', async () => {
      const del = await review(`${MUTATE}-virtualmachine`, aReview(aVirtualMachine('web'), { operation: 'DELETE' }));
      assert.deepEqual(del.response, { uid: del.response.uid, allowed: true });
      const cls = await review(`${MUTATE}-vmclass`, aReview(aVmClass('c')));
      assert.deepEqual(cls.response, { uid: cls.response.uid, allowed: true });
    });
  });

  describe('bad input: a clear answer, never a crash', () => {
    const url = (path: string) => `${server.url}${path}`;
    const statusOf = (body: string) => JSON.parse(body) as { kind: string; code: number; message: string };

    it('malformed JSON: HTTP 400 with a Status saying so', async () => {
      const r = await post(url(`${VALIDATE}-vmclass`), '{"apiVersion": "admission.k8s.io/v1", "request": {', { ca, agent });
      assert.equal(r.status, 400);
      const s = statusOf(r.body);
      assert.equal(s.kind, 'Status');
      assert.match(s.message, /^request body is not valid JSON: /);
    });

    it('a body over 3 MiB: 413, announced or streamed (chunked)', async () => {
      const big = JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024 + 10) });
      const announced = await post(url(`${VALIDATE}-vmclass`), big, { ca, agent: false });
      assert.equal(announced.status, 413);
      assert.match(statusOf(announced.body).message, /over the limit of 3145728 bytes/);
      const chunked = await post(url(`${VALIDATE}-vmclass`), big, { ca, agent: false, chunked: true });
      assert.equal(chunked.status, 413);
    });

    it('no request, or a request without uid: HTTP 400 naming what is missing', async () => {
      const none = await post(url(`${VALIDATE}-vmclass`), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, { ca, agent });
      assert.equal(none.status, 400);
      assert.match(statusOf(none.body).message, /has no request object/);
      const noUid = await post(url(`${VALIDATE}-vmclass`), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }, { ca, agent });
      assert.equal(noUid.status, 400);
      assert.match(statusOf(noUid.body).message, /request has no uid/);
      const array = await post(url(`${VALIDATE}-vmclass`), [1, 2], { ca, agent });
      assert.equal(array.status, 400);
    });

    const denied = async (path: string, body: Record<string, unknown>, message: RegExp) => {
      const r = await review(path, body);
      assert.equal(r.response.uid, (body.request as { uid: string }).uid);
      assert.equal(r.response.allowed, false);
      assert.equal(r.response.status?.code, 400);
      assert.match(r.response.status?.message ?? '', message);
    };

    it('wrong apiVersion or kind of the review: a denial in a well-formed review', async () => {
      await denied(`${VALIDATE}-vmclass`, { ...aReview(aVmClass('a')), apiVersion: 'admission.k8s.io/v1beta1' },
        /expected apiVersion admission.k8s.io\/v1 kind AdmissionReview, got apiVersion "admission.k8s.io\/v1beta1" kind "AdmissionReview"/);
      await denied(`${VALIDATE}-vmclass`, { ...aReview(aVmClass('a')), kind: 'Pod' }, /got apiVersion .* kind "Pod"/);
    });

    it('a kind or resource the path does not admit: a denial naming both', async () => {
      await denied(`${VALIDATE}-vmclass`, aReview(aVirtualMachine('web')),
        /\/validate-infra-virtrigaud-io-v1beta1-vmclass admits infra.virtrigaud.io\/v1beta1 VMClass, got kind .*"VirtualMachine"/);
      const wrongResource = aReview(aVmClass('a'));
      (wrongResource.request as Record<string, unknown>).resource = { group: 'infra.virtrigaud.io', version: 'v1beta1', resource: 'pods' };
      await denied(`${VALIDATE}-vmclass`, wrongResource, /admits the resource vmclasses, got resource/);
    });

    it('an object that is not a map, or an unknown operation: a denial', async () => {
      const notMap = aReview(aVmClass('a'));
      (notMap.request as Record<string, unknown>).object = [1, 2, 3];
      await denied(`${VALIDATE}-vmclass`, notMap, /request.object must be a VMClass object \(a map\), got \[1,2,3\]/);
      const noMeta = aReview(aVmClass('a'));
      (noMeta.request as Record<string, unknown>).object = { kind: 'VMClass', metadata: 'x', spec: {} };
      await denied(`${MUTATE}-vmclass`, noMeta, /request.object.metadata must be a map/);
      const op = aReview(aVmClass('a'));
      (op.request as Record<string, unknown>).operation = 'PATCH';
      await denied(`${VALIDATE}-vmclass`, op, /expected operation CREATE, UPDATE, DELETE, CONNECT, got "PATCH"/);
    });

    it('an unknown path: 404 listing the kinds served; GET on an admission path: 404', async () => {
      const r = await post(url(`${VALIDATE}-pod`), aReview(aVmClass('a')), { ca, agent });
      assert.equal(r.status, 404);
      assert.match(statusOf(r.body).message, /no admission endpoint at \/validate-infra-virtrigaud-io-v1beta1-pod; .*virtualmachine, vmclass/);
      assert.equal((await get(url(`${VALIDATE}-vmclass`), ca, agent)).status, 404);
    });

    it('a client that hangs up mid-body, plain garbage, or no TLS at all: the server keeps serving', async () => {
      const { port } = server;
      const raw = (secure: boolean, data: string) => new Promise<void>((resolve) => {
        const socket = secure
          ? tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => socket.write(data))
          : netConnect({ host: '127.0.0.1', port }, () => socket.write(data));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        setTimeout(() => socket.destroy(), 100);
      });
      await raw(true, `POST ${VALIDATE}-vmclass HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiVersion":`);
      await raw(true, 'GARBAGE\r\n\r\n');
      await raw(false, 'POST / HTTP/1.1\r\n\r\n');
      assert.equal((await get(`${server.url}/healthz`, ca, false)).status, 200);
      const r = await review(`${VALIDATE}-vmclass`, aReview(aVmClass('after')));
      assert.equal(r.response.allowed, true);
    });

    it('a rule that throws: a 500 InternalError denial, and the server keeps serving', async () => {
      const boom: Validator<VMClass> = () => {
        throw new TypeError('boom');
      };
      const crashing = await started(tls, { validators: { VMClass: boom }, mutators: {} }, lookup, () => true);
      try {
        const r = await post(`${crashing.url}${VALIDATE}-vmclass`, aReview(aVmClass('a')), { ca, agent: false });
        const parsed = JSON.parse(r.body) as ReviewReply;
        assert.equal(parsed.response.allowed, false);
        assert.equal(parsed.response.status?.code, 500);
        assert.equal(parsed.response.status?.message, 'internal error: the VMClass validation rules failed (boom)');
        assert.equal((await get(`${crashing.url}/healthz`, ca, false)).status, 200);
      } finally {
        await crashing.close();
      }
    });
  });

  describe('health, readiness, metrics', () => {
    it('/healthz is 200; /readyz and admission wait for synced caches', async () => {
      assert.equal((await get(`${server.url}/healthz`, ca, agent)).body, 'ok');
      ready = false;
      try {
        assert.equal((await get(`${server.url}/readyz`, ca, agent)).status, 503);
        const r = await review(`${VALIDATE}-vmclass`, aReview(aVmClass('a')));
        assert.equal(r.response.allowed, false);
        assert.equal(r.response.status?.code, 503);
        assert.match(r.response.status?.message ?? '', /caches have not synced yet/);
      } finally {
        ready = true;
      }
      assert.equal((await get(`${server.url}/readyz`, ca, agent)).status, 200);
    });

    it('/metrics counts requests by path and outcome, denials by rule, and latency', async () => {
      const text = (await get(`${server.url}/metrics`, ca, agent)).body;
      assert.match(text, /virtrigaud_webhook_requests_total\{path="\/validate-infra-virtrigaud-io-v1beta1-vmclass",outcome="denied"\} [1-9]/);
      assert.match(text, /virtrigaud_webhook_requests_total\{path="\/mutate-infra-virtrigaud-io-v1beta1-virtualmachine",outcome="patched"\} [1-9]/);
      assert.match(text, /virtrigaud_webhook_requests_total\{path="other",outcome="not_found"\} [1-9]/);
      assert.match(text, /virtrigaud_webhook_denials_total\{kind="VMClass",rule="test-cpu-max"\} 1/);
      assert.match(text, /virtrigaud_webhook_denials_total\{kind="VirtualMachine",rule="test-disk-names"\} 2/);
      assert.match(text, /virtrigaud_webhook_request_duration_seconds_bucket\{le="0.002",path="\/validate-infra-virtrigaud-io-v1beta1-vmclass"\} [1-9]/);
      assert.match(text, /virtrigaud_webhook_tls_connections_total [1-9]/);
    });
  });

  describe('the apiserver\'s way of calling', () => {
    it('serves the path with the query the apiserver appends (?timeout=5s), and only the exact path', async () => {
      const r = await review(`${VALIDATE}-vmclass?timeout=5s`, aReview(aVmClass('q'), { uid: 'u-q' }));
      assert.deepEqual(r.response, { uid: 'u-q', allowed: true });
      const m = await review(`${MUTATE}-virtualmachine?timeout=5s`, aReview(aVirtualMachine('q')));
      assert.equal(m.response.allowed, true);
      for (const path of [`${VALIDATE}-vmclass/`, `${VALIDATE}-VMClass`, `${VALIDATE}-vmclass/x?timeout=5s`]) {
        assert.equal((await post(`${server.url}${path}`, aReview(aVmClass('a')), { ca, agent })).status, 404, path);
      }
    });

    it('keeps connections alive: many reviews, one handshake each connection', async () => {
      const one = new Agent({ keepAlive: true, maxSockets: 1 });
      const count = async () => Number(/virtrigaud_webhook_tls_connections_total (\d+)/.exec((await get(`${server.url}/metrics`, ca, false)).body)?.[1]);
      try {
        const before = await count();
        for (let i = 0; i < 5; i++) {
          const reply = await post(`${server.url}${VALIDATE}-vmclass?timeout=5s`, aReview(aVmClass(`k${i}`)), { ca, agent: one });
          assert.equal(reply.status, 200);
        }
        // The five reviews' connection, and the metrics request's own.
        assert.equal(await count(), before + 2);
      } finally {
        one.destroy();
      }
    });

    it('stops at once when connections are idle or never sent a request (the apiserver opens spares)', async () => {
      const s = await started(tls, TEST_RULES, lookup, () => true);
      const idle = new Agent({ keepAlive: true });
      const spare = await new Promise<ReturnType<typeof tlsConnect>>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: s.port, ca, servername: 'localhost' }, () => resolve(socket));
        socket.on('error', reject);
      });
      try {
        assert.equal((await post(`${s.url}${VALIDATE}-vmclass`, aReview(aVmClass('a')), { ca, agent: idle })).status, 200);
        const t0 = Date.now();
        await s.close();
        assert.ok(Date.now() - t0 < 2000, `close() took ${Date.now() - t0} ms`);
      } finally {
        spare.destroy();
        idle.destroy();
      }
    });
  });

  describe('certificate reload', () => {
    const fingerprint = async () => (await get(`${server.url}/healthz`, ca, false)).fingerprint;
    const waitForFingerprint = async (want: (fp: string | undefined) => boolean, ms = 5000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const fp = await fingerprint();
        if (want(fp)) return fp;
        if (Date.now() > deadline) throw new Error(`certificate did not change within ${ms} ms (still ${fp})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    it('new connections get the rewritten certificate; a half-written pair keeps the old one', async () => {
      const before = await fingerprint();
      assert.ok(before);
      const next = await signServingCert(tls.dir, 'rotated', { cert: tls.caCert, key: tls.caKey });
      // Only the certificate first: it does not match the key, so the old pair stays.
      copyFileSync(next.cert, `${tls.cert}.tmp`);
      renameSync(`${tls.cert}.tmp`, tls.cert);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await fingerprint(), before, 'a mismatched pair must not be taken');
      // Then the key, written in place: now the pair matches.
      writeFileSync(tls.key, readFileSync(next.key));
      const after = await waitForFingerprint((fp) => fp !== before);
      assert.notEqual(after, before);
      // The new certificate serves admission as before.
      const r = await post(`${server.url}${VALIDATE}-vmclass`, aReview(aVmClass('ok')), { ca, agent: false, fingerprint: true });
      assert.equal(r.fingerprint, after);
      assert.equal((JSON.parse(r.body) as ReviewReply).response.allowed, true);
      const metrics = (await get(`${server.url}/metrics`, ca, false)).body;
      assert.match(metrics, /virtrigaud_webhook_tls_reloads_total\{result="ok"\} 1/);
      assert.match(metrics, /virtrigaud_webhook_tls_reloads_total\{result="failed"\} [1-9]/);
    });
  });
});
