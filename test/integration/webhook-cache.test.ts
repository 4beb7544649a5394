/**
 * The shared informer (kube/) behind the webhook's caches and the dispatcher's, against a
 * scripted HTTP apiserver stand-in: it lists in pages and watches again after a backoff (a cut
 * watch resumes from the last version, a 410 relists), keeps the cache answering from memory
 * throughout, and hands changes to the handlers.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { kubeAuthFromConfig, KubeRest, startInformer, type Informer, type InformerEvent, type InformerOptions } from '../../kube/index.ts';

const PATH = '/apis/infra.virtrigaud.io/v1beta1/vmclasses';

const aClass = (name: string, rv: string): KubernetesObject => ({
  apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMClass', metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/** Answers lists and watches from a script: each call takes the next step of its kind. */
class ScriptedApiserver {
  lists: Array<(res: ServerResponse) => void> = [];
  watches: Array<(res: ServerResponse) => void> = [];
  listCalls = 0;
  watchCalls = 0;
  urls: string[] = [];
  server: Server = createServer((req, res) => this.handle(req, res));
  open = new Set<ServerResponse>();

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    this.urls.push(req.url ?? '');
    if (url.pathname !== PATH) {
      res.writeHead(404).end();
      return;
    }
    const watch = url.searchParams.get('watch') === 'true';
    const step = watch ? this.watches[this.watchCalls++] : this.lists[this.listCalls++];
    if (!step) {
      // Out of script: hold the watch open (a quiet cluster).
      this.open.add(res);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return;
    }
    step(res);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const fail = (status: number) => (res: ServerResponse) => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: status }));
};
const list = (items: KubernetesObject[], rv: string) => (res: ServerResponse) => {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'VMClassList', metadata: { resourceVersion: rv }, items }));
};
/** A watch that sends events, then ends (the apiserver closing it) or, with `hold`, stays open. */
const events = (sent: Array<{ type: string; object: KubernetesObject }>, hold = false) => (res: ServerResponse) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const e of sent) res.write(`${JSON.stringify(e)}\n`);
  if (!hold) res.end();
};

async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('informer cache restart loop', function () {
  this.timeout(20_000);
  let api: ScriptedApiserver;
  let informer: Informer<KubernetesObject> | undefined;
  let client: KubeRest | undefined;
  const seen: InformerEvent[] = [];

  type Extra = Pick<InformerOptions<KubernetesObject>, 'handlers' | 'transform'>;
  const start = async (user: Record<string, unknown> = {}, extra: Extra = {}) => {
    const server = await api.listen();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server, skipTLSVerify: true }], users: [{ name: 'u', ...user }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    // Credentials asked for at every request, so a failing exec plugin shows at once.
    client = new KubeRest(kubeAuthFromConfig(kubeConfig), { maxSockets: 4, authRefreshMs: 0 });
    informer = startInformer<KubernetesObject>({
      kind: 'VMClass',
      path: PATH,
      client,
      backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
      onEvent: (e) => seen.push(e),
      ...extra,
    });
  };

  beforeEach(() => {
    api = new ScriptedApiserver();
    seen.length = 0;
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    client?.close();
    await api.close();
  });

  it('keeps listing after failed lists, with growing delays, and syncs once one succeeds', async () => {
    api.lists = [fail(500), fail(503), fail(500), list([aClass('a', '5')], '5')];
    await start();
    await informer!.synced;
    assert.equal(api.listCalls, 4);
    assert.equal(informer!.get('ns', 'a')?.metadata?.name, 'a');
    const delays = seen.filter((e) => e.type === 'error').map((e) => (e as { retryInMs: number }).retryInMs);
    assert.deepEqual(delays, [20, 40, 80]);
    assert.ok(seen.some((e) => e.type === 'synced'));
  });

  it('restarts a watch that failed and follows the events after it', async () => {
    api.lists = [list([aClass('a', '5')], '5')];
    api.watches = [
      events([{ type: 'ADDED', object: aClass('b', '6') }]), // closed by the server: re-watched at once
      fail(500), // an error: re-watched after a backoff
      fail(500),
      events([{ type: 'ADDED', object: aClass('c', '7') }, { type: 'DELETED', object: aClass('a', '8') }], true),
    ];
    await start();
    await informer!.synced;
    await eventually(() => informer!.get('ns', 'c') !== undefined, 'the event after the failed watches');
    assert.equal(informer!.get('ns', 'a'), undefined);
    assert.deepEqual(informer!.list('ns').map((o) => o.metadata?.name).sort(), ['b', 'c']);
    assert.equal(seen.filter((e) => e.type === 'error').length, 2);
    assert.equal(api.listCalls, 1, 'a watch failure resumes from the last resourceVersion, no relist');
  });

  it('relists after 410 Gone and drops objects that went away meanwhile', async () => {
    api.lists = [list([aClass('a', '5'), aClass('b', '5')], '5'), list([aClass('b', '9')], '9')];
    api.watches = [events([{ type: 'ERROR', object: { kind: 'Status', code: 410 } as unknown as KubernetesObject }])];
    await start();
    await informer!.synced;
    await eventually(() => api.listCalls === 2 && informer!.get('ns', 'a') === undefined, 'the relist');
    assert.deepEqual(informer!.list('ns').map((o) => o.metadata?.name), ['b']);
  });

  it('retries a re-watch whose credentials fail to load', async () => {
    // Credentials that work twice: the list and the first watch connect, the re-watch after it closes cannot.
    const dir = mkdtempSync(join(tmpdir(), 'exec-auth-'));
    const plugin = join(dir, 'once.sh');
    writeFileSync(plugin, `#!/bin/sh\nn=$(cat ${dir}/used 2>/dev/null || echo 0)\n[ "$n" -ge 2 ] && exit 1\necho $((n+1)) > ${dir}/used\n`
      + 'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}\'\n', { mode: 0o755 });
    try {
      api.lists = [list([aClass('a', '5')], '5')];
      api.watches = [events([{ type: 'ADDED', object: aClass('b', '6') }])];
      await start({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin } });
      await informer!.synced;
      await eventually(() => seen.filter((e) => e.type === 'error').length >= 2, 'the failed re-watches reaching the restart loop');
      assert.equal(api.watchCalls, 1);
      assert.equal(informer!.get('ns', 'b')?.metadata?.name, 'b', 'the cache still answers');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists in pages and watches from the last page\'s version', async () => {
    api.lists = [
      (res) => res.writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ metadata: { resourceVersion: '5', continue: 'token-1' }, items: [aClass('a', '4')] })),
      list([aClass('b', '5')], '5'),
    ];
    api.watches = [events([], true)];
    await start();
    await informer!.synced;
    assert.deepEqual(informer!.list('ns').map((o) => o.metadata?.name).sort(), ['a', 'b']);
    await eventually(() => api.watchCalls === 1, 'the watch');
    const [first, second, watch] = api.urls;
    assert.match(first!, /limit=500/);
    assert.match(second!, /continue=token-1/);
    assert.match(watch!, /watch=true.*resourceVersion=5/);
    assert.match(watch!, /allowWatchBookmarks=true/);
  });

  it('puts together an event split across chunks, and follows bookmarks without reporting them', async () => {
    api.lists = [list([], '5')];
    let watch: ServerResponse | undefined;
    api.watches = [(res) => {
      api.open.add(res);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      watch = res;
    }, events([], true)];
    const added: string[] = [];
    await start({}, { handlers: { add: (o) => added.push(o.metadata?.name ?? '') } });
    await informer!.synced;
    await eventually(() => watch !== undefined, 'the watch');
    const line = `${JSON.stringify({ type: 'ADDED', object: aClass('split', '6') })}\n`;
    watch!.write(line.slice(0, 25));
    await new Promise((r) => setTimeout(r, 30));
    watch!.write(line.slice(25) + `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '42' } } })}\n`);
    await eventually(() => added.length === 1, 'the split event');
    assert.deepEqual(added, ['split']);
    watch!.end();
    await eventually(() => api.watchCalls === 2, 'the re-watch');
    assert.match(api.urls.at(-1)!, /resourceVersion=42/, 'resumes from the bookmark');
  });

  it('answers the same list until the namespace changes', async () => {
    api.lists = [list([aClass('a', '5')], '5')];
    api.watches = [events([], true)];
    await start();
    await informer!.synced;
    const first = informer!.list('ns');
    assert.equal(informer!.list('ns'), first, 'no copy per call');
    assert.deepEqual(informer!.list('other'), []);
  });

  it('answers a new list once an object of its namespace changes, and the same one for other namespaces', async () => {
    const other = { ...aClass('z', '5'), metadata: { name: 'z', namespace: 'other', resourceVersion: '5' } };
    api.lists = [list([aClass('a', '5'), other], '5')];
    let watch: ServerResponse | undefined;
    api.watches = [(res) => {
      api.open.add(res);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      watch = res;
    }];
    await start();
    await informer!.synced;
    await eventually(() => watch !== undefined, 'the watch');
    const before = { ns: informer!.list('ns'), other: informer!.list('other'), all: informer!.list() };
    watch!.write(`${JSON.stringify({ type: 'ADDED', object: aClass('b', '6') })}\n`);
    await eventually(() => informer!.get('ns', 'b') !== undefined, 'the watched add');
    assert.notEqual(informer!.list('ns'), before.ns);
    assert.deepEqual(informer!.list('ns').map((o) => o.metadata?.name).sort(), ['a', 'b']);
    assert.equal(informer!.list('other'), before.other);
    assert.notEqual(informer!.list(), before.all);
    assert.deepEqual(informer!.list('').map((o) => o.metadata?.name).sort(), ['a', 'b', 'z']);
  });

  it('transforms every object before it is stored or handed to a handler, then calls add, update and delete', async () => {
    const withData = (name: string, rv: string) => ({ ...aClass(name, rv), data: { secret: 'x' } }) as KubernetesObject;
    api.lists = [list([withData('a', '5')], '5')];
    api.watches = [events([
      { type: 'ADDED', object: withData('b', '6') },
      { type: 'MODIFIED', object: withData('a', '7') },
      { type: 'DELETED', object: withData('b', '8') },
    ], true)];
    const calls: string[] = [];
    const record = (verb: string) => (o: KubernetesObject) => {
      calls.push(`${verb} ${o.metadata?.name} ${'data' in o ? 'with data' : 'stripped'}`);
      // The store already holds the change when a handler runs.
      assert.equal(informer!.get('ns', o.metadata?.name ?? '') !== undefined, verb !== 'delete');
    };
    await start({}, {
      transform: (o) => void delete (o as { data?: unknown }).data,
      handlers: { add: record('add'), update: record('update'), delete: record('delete') },
    });
    await informer!.synced;
    await eventually(() => calls.length === 4, 'four handler calls');
    assert.deepEqual(calls, ['add a stripped', 'add b stripped', 'update a stripped', 'delete b stripped']);
    assert.equal('data' in informer!.get('ns', 'a')!, false);
  });
});
