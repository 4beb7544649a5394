/**
 * Every webhook rule through the real kube-apiserver, as a user meets it: `kubectl apply
 * --server-side` (or `kubectl delete`) of an object that breaks exactly one rule is refused, and
 * kubectl's stderr names the field and says the rule's message (built from the constants the
 * rules export, so this test follows them). Allowed objects of every kind apply, a missing
 * reference is a warning in kubectl's output, and the mutating webhook's defaults are stored.
 *
 * The rows are in test/support/webhook-rule-rows.ts. The real webhook (webhook/main.ts as a
 * child process) is registered for this suite's namespaces only, one namespace per row. Every
 * row's prerequisites are applied in one call before the webhook starts, so its informer caches
 * hold them when it turns ready (no waiting for caches in the rows). after() unregisters the
 * webhook, so the shared cluster stays usable.
 */
import { strict as assert } from 'node:assert';
import { GROUP } from '../../api/crd.ts';
import { LABEL_CLASS, LABEL_PROVIDER, type VirtualMachine } from '../../api/objects.ts';
import type { ControlPlane } from '../../scripts/stack/control-plane.ts';
import { startLocalWebhook, type LocalWebhook } from '../../scripts/stack/webhook.ts';
import { KINDS } from '../../webhook/kinds/index.ts';
import { RULE_DESCRIPTIONS } from '../../webhook/kinds/rule-names.ts';
import { missingWarning } from '../../webhook/kinds/shared/refs.ts';
import { DEFAULT_POWER_STATE } from '../../webhook/kinds/virtualmachine/mutate-power-state.ts';
import { k, testCluster } from '../support/cluster.ts';
import { ALLOWED, okWorld, ROWS, UNREACHABLE, vm } from '../support/webhook-rule-rows.ts';

const LABEL = 'virtrigaud.io/webhook-rules-test';
const RUN = String(process.pid);
const WEBHOOK_NAME = `virtrigaud-rules-${RUN}`;

/** This suite's namespace for a row or a group of tests. */
const nsOf = (id: string): string => `whr-${RUN}-${id}`;

const list = (items: readonly object[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

const apply = (objects: readonly object[]) => k(['apply', '--server-side', '-f', '-'], list(objects));

/** The namespace of the allowed, warning and defaulting tests. */
const OK_NS = nsOf('ok');

const ROW_NAMESPACES = [...new Set(ROWS.map((r) => nsOf(r.id)))];

/** Namespaces this suite owns, labelled for its webhook. */
const namespaceObjects = (names: readonly string[]) =>
  names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [LABEL]: RUN } } }));

describe('webhook rules behind the real apiserver: every rule, as kubectl shows it', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let webhook: LocalWebhook | undefined;

  before(async function () {
    this.timeout(90_000);
    cp = await testCluster();
    // 1. Namespaces and every row's prerequisites in one apply, before the webhook exists.
    const setup = [
      ...namespaceObjects([OK_NS, ...ROW_NAMESPACES]),
      ...okWorld(OK_NS),
      ...ROWS.flatMap((r) => r.setup?.(nsOf(r.id)) ?? []),
    ];
    const r = await apply(setup);
    assert.equal(r.code, 0, r.stderr);
    // 2. The real webhook; it is ready once its caches have synced, so they hold the setup.
    webhook = await startLocalWebhook({
      cp,
      name: WEBHOOK_NAME,
      namespaceSelector: { matchLabels: { [LABEL]: RUN } },
      probeNamespace: OK_NS,
    });
  });

  after(async () => {
    // Unregister first: with failurePolicy Fail, a stopped webhook would refuse every write here.
    try {
      await webhook?.stop();
    } finally {
      await k(['delete', 'namespace', '--wait=false', '--ignore-not-found', OK_NS, ...ROW_NAMESPACES]);
    }
    const left = await k(['get', 'validatingwebhookconfigurations,mutatingwebhookconfigurations', '-o', 'name']);
    assert.doesNotMatch(left.stdout, new RegExp(WEBHOOK_NAME));
  });

  it('has a row for every rule of RULE_DESCRIPTIONS but the unreachable ones', () => {
    const covered = new Set<string>(ROWS.map((r) => r.rule));
    const all = Object.keys(RULE_DESCRIPTIONS);
    assert.deepEqual(all.filter((rule) => !covered.has(rule) && !(rule in UNREACHABLE)), [], 'rules without a row');
    assert.deepEqual(Object.keys(UNREACHABLE).filter((rule) => covered.has(rule)), [], 'rules both covered and called unreachable');
    assert.deepEqual([...covered, ...Object.keys(UNREACHABLE)].filter((rule) => !all.includes(rule)), [], 'rules not in the catalogue');
  });

  describe('each rule refuses with the field and the message', () => {
    for (const row of ROWS) {
      it(`${row.rule}: ${row.title}`, async () => {
        const ns = nsOf(row.id);
        const act = row.act(ns);
        const { kind, name } = 'apply' in act ? { kind: act.apply.kind, name: act.apply.metadata.name ?? '' } : act.delete;
        const resource = `${kind.toLowerCase()}.${GROUP}`;
        const r = 'apply' in act ? await apply([act.apply]) : await k(['delete', '-n', ns, resource, name]);
        assert.equal(r.code, 1, `expected a refusal; got exit ${r.code}\n${r.stdout}${r.stderr}`);
        assert.ok(r.stderr.includes(`The ${kind} "${name}" is invalid: `), r.stderr);
        const cause = `${row.field}: ${row.says}: ${row.message(ns)}`;
        assert.ok(r.stderr.includes(cause), `stderr lacks\n  ${cause}\ngot\n  ${r.stderr}`);
        // Exactly this rule: kubectl lists several causes as "* …" lines, so no other rule (or the schema) fired too.
        assert.doesNotMatch(r.stderr, /^\s*\* /m, `more than one cause:\n${r.stderr}`);
        // The store is as it was: a refused create stored nothing, a refused update or delete left the object.
        const existed = 'delete' in act || (row.setup?.(ns) ?? []).some((o) => o.kind === kind && o.metadata.name === name);
        const got = await k(['get', '-n', ns, resource, name, '-o', 'name']);
        assert.equal(got.code, existed ? 0 : 1, `${resource}/${name}: ${got.stdout}${got.stderr}`);
      });
    }
  });

  describe('allowed objects apply', () => {
    for (const kind of KINDS) {
      it(`a valid ${kind} applies, without warnings`, async () => {
        const object = ALLOWED[kind](OK_NS);
        const r = await apply([object]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`/${object.metadata.name} serverside-applied`));
        assert.doesNotMatch(r.stderr, /Warning/);
      });
    }
  });

  it('a VM referencing a missing VMClass applies, with a warning in kubectl\'s output', async () => {
    const r = await apply([vm(OK_NS, { metadata: { name: 'early' }, spec: { classRef: { name: 'later' } } })]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(`Warning: ${missingWarning('VMClass', OK_NS, 'later', 'the VM waits for it')}`), r.stderr);
    assert.equal((await k(['get', 'vm', 'early', '-n', OK_NS])).code, 0, 'the VM is stored');
  });

  it('the mutating webhook stores the defaults: powerState On, provider and class labels, placement from soft preferences', async () => {
    const r = await apply([vm(OK_NS, { metadata: { name: 'plain' }, spec: { placementRef: { name: 'spread' } } })]);
    assert.equal(r.code, 0, r.stderr);
    const stored = JSON.parse((await k(['get', 'vm', 'plain', '-n', OK_NS, '-o', 'json'])).stdout) as VirtualMachine;
    assert.equal(stored.spec.powerState, DEFAULT_POWER_STATE);
    assert.equal(stored.metadata.labels?.[LABEL_PROVIDER], 'vsphere-prod');
    assert.equal(stored.metadata.labels?.[LABEL_CLASS], 'small');
    assert.equal(stored.spec.placement?.cluster, 'c2', "the policy's soft preference, within its hard allow-list");
  });

  it('the defaults never change what the user set', async () => {
    const mine = vm(OK_NS, { metadata: { name: 'mine', labels: { [LABEL_CLASS]: 'custom' } }, spec: { powerState: 'Off', placementRef: { name: 'spread' }, placement: { cluster: 'c1' } } });
    const r = await apply([mine]);
    assert.equal(r.code, 0, r.stderr);
    const stored = JSON.parse((await k(['get', 'vm', 'mine', '-n', OK_NS, '-o', 'json'])).stdout) as VirtualMachine;
    assert.equal(stored.spec.powerState, 'Off');
    assert.equal(stored.metadata.labels?.[LABEL_CLASS], 'custom');
    assert.equal(stored.metadata.labels?.[LABEL_PROVIDER], 'vsphere-prod');
    assert.equal(stored.spec.placement?.cluster, 'c1');
  });
});
