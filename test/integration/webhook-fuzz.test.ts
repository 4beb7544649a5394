/**
 * Fuzzing the admission server over HTTPS: random bodies, truncated reviews, and valid reviews
 * with a random part replaced or removed, sent to random admission paths. Every reply must be a
 * well-formed AdmissionReview (or a Status where no uid could be read), and the server must live.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import fc from 'fast-check';
import { memoryLookup } from '../../webhook/cache/index.ts';
import {
  applyJsonPatch, createWebhookMetrics, diffJson, isPlainObject, KIND_ROUTES, startWebhookServer,
  type RuleSet, type WebhookServer,
} from '../../webhook/server/index.ts';
import { mutators as realMutators, validators as realValidators } from '../../webhook/kinds/index.ts';
import { aReview, aVirtualMachine, aVmClass, get, makeTestTls, post, TEST_RULES, type TestTls } from '../support/webhook-fixtures.ts';

/** Requests against the real rules (the test rules get a fifth of that); WEBHOOK_FUZZ_SEED replays a run. */
const RUNS = Number(process.env.WEBHOOK_FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.WEBHOOK_FUZZ_SEED ?? Date.now() % 1_000_000);
const ADMISSION_PATHS = KIND_ROUTES.map((r) => r.path);

type Json = unknown;
type Key = string | number;

/** Every path into a JSON value, the root included. */
function paths(value: Json, prefix: Key[] = [], out: Key[][] = []): Key[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

/** A copy of `value` with the part at `path` replaced (or removed when `replacement` is undefined). */
function replaced(value: Json, path: Key[], replacement: Json): Json {
  if (!path.length) return replacement;
  const copy = structuredClone(value) as Record<Key, unknown>;
  let parent: Record<Key, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<Key, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = replacement;
  }
  return copy;
}

const bases: Record<string, unknown>[] = [
  aReview(aVmClass('small')),
  aReview(aVmClass('big', { cpu: 100 })),
  aReview(aVmClass('small'), { operation: 'DELETE' }),
  aReview(aVirtualMachine('web', { disks: [{ name: 'a', sizeGiB: 10 }, { name: 'a', sizeGiB: 20 }] })),
  aReview(aVirtualMachine('web', { classRef: { name: 'missing' } }), { operation: 'UPDATE', oldObject: aVirtualMachine('web') }),
  aReview({ apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMPlacementPolicy', metadata: { name: 'p', namespace: 'ns' }, spec: {} }),
  aReview({ apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'Provider', metadata: { name: 'p', namespace: 'ns' }, spec: { type: 'libvirt', endpoint: 'qemu:///system' } }),
];

/** A base review's path, the one its kind is served on (mutated reviews mostly still reach their kind). */
const pathFor = (review: Record<string, unknown>, mode: 'validate' | 'mutate') => {
  const kind = ((review.request as Record<string, unknown>).kind as { kind: string }).kind;
  return KIND_ROUTES.find((r) => r.kind === kind && r.mode === mode)!.path;
};

interface Case {
  path: string;
  body: string;
  /** The parsed body, when it is JSON (to find the uid the reply must echo). */
  sent?: unknown;
}

const anyPath = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...ADMISSION_PATHS) },
  { weight: 1, arbitrary: fc.string().map((s) => `/${s.replace(/[^\w-]/g, '')}`) },
);
const mode = fc.constantFrom('validate' as const, 'mutate' as const);
const jsonish = fc.jsonValue({ maxDepth: 3 });

const mutatedReview: fc.Arbitrary<Case> = fc.constantFrom(...bases).chain((base) => {
  const all = paths(base);
  return fc.tuple(fc.constantFrom(...all), fc.option(jsonish, { nil: undefined, freq: 4 }), mode).map(([path, value, m]) => {
    const sent = replaced(base, path, value);
    return { path: pathFor(base, m), body: JSON.stringify(sent) ?? 'null', sent };
  });
});

const truncatedReview: fc.Arbitrary<Case> = fc.tuple(fc.constantFrom(...bases), fc.nat(), mode).map(([base, cut, m]) => {
  const text = JSON.stringify(base);
  return { path: pathFor(base, m), body: text.slice(0, cut % text.length) };
});

const randomJson: fc.Arbitrary<Case> = fc.tuple(anyPath, jsonish).map(([path, sent]) => ({ path, body: JSON.stringify(sent), sent }));

/** A review envelope around a random object: passes the envelope checks, so the rules meet garbage. */
const randomObject: fc.Arbitrary<Case> = fc.tuple(fc.constantFrom(...KIND_ROUTES), fc.dictionary(fc.string(), jsonish), jsonish, fc.constantFrom('CREATE', 'UPDATE', 'DELETE'))
  .map(([route, metadata, spec, operation]) => {
    const object = { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: route.kind, metadata, spec };
    const sent = {
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: {
        uid: 'fuzz', operation, kind: { group: 'infra.virtrigaud.io', version: 'v1beta1', kind: route.kind },
        object: operation === 'DELETE' ? null : object, oldObject: operation === 'CREATE' ? null : object,
      },
    };
    return { path: route.path, body: JSON.stringify(sent), sent };
  });

const randomText: fc.Arbitrary<Case> = fc.tuple(anyPath, fc.oneof(fc.string(), fc.string({ unit: 'binary' }))).map(([path, body]) => ({ path, body }));

const cases: fc.Arbitrary<Case> = fc.oneof(
  { weight: 4, arbitrary: mutatedReview },
  { weight: 3, arbitrary: randomObject },
  { weight: 1, arbitrary: truncatedReview },
  { weight: 1, arbitrary: randomJson },
  { weight: 1, arbitrary: randomText },
);

function uidOf(sent: unknown): string | undefined {
  if (!isPlainObject(sent) || !isPlainObject(sent.request)) return undefined;
  const uid = sent.request.uid;
  return typeof uid === 'string' && uid ? uid : undefined;
}

/** Asserts the reply is well-formed for what was sent. */
function checkReply(c: Case, status: number, body: string): void {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  if (status === 200) {
    assert.equal(parsed.apiVersion, 'admission.k8s.io/v1');
    assert.equal(parsed.kind, 'AdmissionReview');
    const response = parsed.response as Record<string, unknown>;
    assert.equal(response.uid, uidOf(c.sent), 'the reply echoes the request uid');
    assert.equal(typeof response.allowed, 'boolean');
    if (response.warnings !== undefined) assert.ok((response.warnings as unknown[]).every((w) => typeof w === 'string'));
    if (!response.allowed) {
      const s = response.status as { code: number; reason: string; message: string };
      assert.ok(s.code >= 400 && s.code < 600, `denial code ${s.code}`);
      assert.ok(typeof s.message === 'string' && s.message.length > 0, 'a denial says why');
      assert.ok(typeof s.reason === 'string' && s.reason.length > 0);
      assert.equal(response.patch, undefined);
    }
    if (response.patch !== undefined) {
      assert.equal(response.patchType, 'JSONPatch');
      const ops = JSON.parse(Buffer.from(response.patch as string, 'base64').toString('utf8')) as Array<{ op: string; path: string }>;
      assert.ok(Array.isArray(ops) && ops.length > 0);
      for (const op of ops) assert.ok(['add', 'replace', 'remove'].includes(op.op) && typeof op.path === 'string');
      // The patch applies to the object that was sent.
      const request = (c.sent as { request: { object: unknown } }).request;
      applyJsonPatch(request.object, ops as never);
    }
    return;
  }
  assert.ok([400, 404, 413].includes(status), `HTTP ${status}: ${body}`);
  assert.equal(parsed.kind, 'Status');
  assert.equal(parsed.code, status);
  assert.ok(typeof parsed.message === 'string' && (parsed.message as string).length > 0);
}

describe('webhook server under fuzzing', function () {
  this.timeout(60_000);
  let tls: TestTls;
  let ca: Buffer;
  const servers: WebhookServer[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  before(async () => {
    tls = await makeTestTls();
    ca = readFileSync(tls.caCert);
  });
  after(async () => {
    agent.destroy();
    await Promise.all(servers.map((s) => s.close()));
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  const ruleSets: Array<[string, RuleSet, number]> = [
    ['the real rules of webhook/kinds', { validators: realValidators, mutators: realMutators }, RUNS],
    ['the test rules', TEST_RULES, Math.ceil(RUNS / 5)],
  ];
  for (const [label, rules, runs] of ruleSets) {
    it(`answers ${runs} random and mutated AdmissionReviews well-formed, with ${label}, and survives`, async () => {
      const lookup = memoryLookup({ vmClasses: [aVmClass('small')], virtualMachines: [aVirtualMachine('user', { classRef: { name: 'small' } })] });
      const metrics = createWebhookMetrics();
      const server = await startWebhookServer({
        host: '127.0.0.1', port: 0, certFile: tls.cert, keyFile: tls.key,
        rules, lookup, ready: () => true, metrics,
      });
      servers.push(server);
      const started = performance.now();
      const statuses = new Map<number, number>();
      // Sixteen in flight at a time, checked as they come back.
      const samples = fc.sample(cases, { numRuns: runs, seed: SEED });
      let next = 0;
      const worker = async () => {
        while (next < samples.length) {
          const c = samples[next++]!;
          const reply = await post(`${server.url}${c.path}`, c.body, { ca, agent });
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          try {
            checkReply(c, reply.status, reply.body);
          } catch (err) {
            throw new Error(`${(err as Error).message} (replay: WEBHOOK_FUZZ_SEED=${SEED})\n  path: ${c.path}\n  sent: ${c.body.slice(0, 500)}\n  got ${reply.status}: ${reply.body.slice(0, 500)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      const seconds = (performance.now() - started) / 1000;
      assert.equal([...statuses.values()].reduce((a, b) => a + b, 0), runs);
      assert.ok((statuses.get(200) ?? 0) > runs / 2, `most cases reach the rules: ${JSON.stringify([...statuses])}`);
      assert.equal((await get(`${server.url}/healthz`, ca, agent)).status, 200, 'the server survives');
      const counts = await metrics.registry.getSingleMetric('virtrigaud_webhook_requests_total')!.get();
      const outcomes: Record<string, number> = {};
      for (const v of counts.values) outcomes[String(v.labels.outcome)] = (outcomes[String(v.labels.outcome)] ?? 0) + v.value;
      console.log(`      seed ${SEED}: ${runs} requests in ${seconds.toFixed(1)} s; HTTP ${JSON.stringify(Object.fromEntries(statuses))}; outcomes ${JSON.stringify(outcomes)}`);
    });
  }
});

describe('JSON patch differ', () => {
  it('patch(a, diff(a, b)) equals b for random JSON documents', () => {
    const doc = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }));
    fc.assert(fc.property(doc, doc, (a, b) => {
      assert.deepEqual(applyJsonPatch(a, diffJson(a, b)), b);
    }), { numRuns: 2000 });
  });

  it('mutating a random part of a document gives a patch that reproduces it', () => {
    const doc = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }));
    const withPath = doc.chain((a) => fc.tuple(fc.constant(a), fc.constantFrom(...paths(a)), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })));
    fc.assert(fc.property(withPath, ([a, path, value]) => {
        if (!path.length) return;
        const b = replaced(a, path, value);
        const patch = diffJson(a, b);
        assert.deepEqual(applyJsonPatch(a, patch), b);
        if (JSON.stringify(a) === JSON.stringify(b)) assert.deepEqual(patch, []);
      }), { numRuns: 2000 });
  });
});
