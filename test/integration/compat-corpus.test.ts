/**
 * Compatibility with the original Go CRDs, judged by real apiservers: a seeded corpus generated
 * from the upstream schemas is dry-run applied to a control plane serving the upstream CRDs and to
 * the shared test control plane serving ours. Upstream must accept every object (else the
 * generator is wrong); ours must too (else our CRDs refuse something users may already have),
 * except where a CEL rule of ours deliberately refuses more (support/corpus/shape-rules.ts).
 */
import assert from 'node:assert/strict';
import type { ControlPlane } from '../../scripts/stack/control-plane.ts';
import { kubectlOk } from '../../scripts/stack/kubectl.ts';
import { freshNamespace, testCluster } from '../support/cluster.ts';
import {
  countLeaves,
  droppedFields,
  dryRunApply,
  generateCorpus,
  loadUpstreamKinds,
  schemaLeafPaths,
  setLeafPaths,
  startUpstreamControlPlane,
  type CorpusObject,
  type UpstreamKind,
  type Verdict,
} from '../support/corpus/index.ts';

/** Fixed, so a failure names an object that every run generates identically. */
const SEED = 0x5eed;
const PER_KIND = 24;
const MIN_OBJECTS = 200;
const MIN_PER_KIND = 20;
/** Some object of every kind sets at least this many scalar fields (required ones are 0 to 4). */
const MIN_RICHEST_LEAVES = 15;
/** Across its objects, every kind sets at least this share of the scalar fields its schema declares. */
const MIN_FIELD_COVERAGE = 0.5;
/** How much of a refused object's spec a failure message quotes. */
const QUOTED_SPEC_CHARS = 1500;

/** Upstream-invalid objects both servers must refuse, so the acceptance test is seen to be able to fail. */
const NEGATIVE_CONTROLS: readonly { rule: string; kind: string; spec: (spec: Record<string, unknown>) => unknown; refusal: RegExp }[] = [
  {
    rule: 'a value outside an enum (VirtualMachine spec.powerState "Sideways")',
    kind: 'VirtualMachine',
    spec: (spec) => ({ ...spec, powerState: 'Sideways' }),
    refusal: /spec\.powerState: Unsupported value: "Sideways"/,
  },
  {
    rule: 'an integer below its minimum (VMClass spec.cpu 0)',
    kind: 'VMClass',
    spec: (spec) => ({ ...spec, cpu: 0 }),
    refusal: /spec\.cpu: Invalid value: 0/,
  },
];

describe('compatibility corpus against the upstream CRDs', function () {
  let kinds: UpstreamKind[] = [];
  let corpus: CorpusObject[] = [];
  let upstreamStarting: Promise<ControlPlane> | undefined;
  let upstream: ControlPlane;
  let ours: ControlPlane;
  let namespace: string;
  const verdicts: Record<'upstream' | 'ours', Verdict[]> = { upstream: [], ours: [] };

  before(async function () {
    this.timeout(60_000);
    // Generated here (under a second), not when mocha loads the file for another test.
    kinds = loadUpstreamKinds();
    corpus = generateCorpus({ seed: SEED, perKind: PER_KIND, kinds });
    upstreamStarting = startUpstreamControlPlane();
    [upstream, ours] = await Promise.all([upstreamStarting, testCluster()]);
    namespace = await freshNamespace('compat');
    await kubectlOk(upstream.binaries.kubectl, upstream.kubeconfig, ['create', 'namespace', namespace]);
    [verdicts.upstream, verdicts.ours] = await Promise.all([
      dryRunApply(upstream.binaries.kubectl, upstream.kubeconfig, namespace, corpus),
      dryRunApply(ours.binaries.kubectl, ours.kubeconfig, namespace, corpus),
    ]);
  });

  after(async function () {
    this.timeout(30_000);
    // Stopped even when the start or another hook failed half-way; a failed start stopped itself.
    const cp = await upstreamStarting?.catch(() => undefined);
    await cp?.stop();
  });

  it('generates at least 200 objects, at least 20 of each of the ten kinds, exercising optional fields', () => {
    assert.equal(kinds.length, 10, `upstream kinds: ${kinds.map((k) => k.kind).join(', ')}`);
    assert.ok(corpus.length >= MIN_OBJECTS, `corpus has ${corpus.length} objects, want ≥ ${MIN_OBJECTS}`);
    assert.equal(new Set(corpus.map((o) => `${o.kind}/${o.metadata.name}`)).size, corpus.length, 'object names are unique');
    for (const k of kinds) {
      const objects = corpus.filter((o) => o.kind === k.kind);
      assert.ok(objects.length >= MIN_PER_KIND, `${k.kind}: ${objects.length} objects, want ≥ ${MIN_PER_KIND}`);
      const richest = Math.max(...objects.map((o) => countLeaves(o.spec)));
      assert.ok(richest >= MIN_RICHEST_LEAVES, `${k.kind}: richest object sets ${richest} scalar fields, want ≥ ${MIN_RICHEST_LEAVES}`);
      const declared = schemaLeafPaths(k.spec, 'spec');
      const set = new Set<string>();
      for (const o of objects) setLeafPaths(o.spec, k.spec, 'spec', set);
      const coverage = [...set].filter((p) => declared.has(p)).length / declared.size;
      assert.ok(
        coverage >= MIN_FIELD_COVERAGE,
        `${k.kind}: the corpus sets ${(coverage * 100).toFixed(0)}% of the ${declared.size} declared scalar fields, want ≥ ${MIN_FIELD_COVERAGE * 100}%`,
      );
    }
  });

  it('a generated corpus of upstream-valid objects (at least 200, across all ten kinds) is accepted by both schemas', () => {
    assert.ok(corpus.length >= MIN_OBJECTS, `corpus has ${corpus.length} objects, want ≥ ${MIN_OBJECTS}`);
    for (const server of ['upstream', 'ours'] as const) {
      assert.equal(verdicts[server].length, corpus.length, `${server}: one verdict per object`);
    }
    const refusals = [...refusalsBy('upstream', verdicts.upstream), ...refusalsBy('ours', verdicts.ours)];
    assert.equal(refusals.length, 0, `${refusals.length} refusals of ${corpus.length} objects:\n${refusals.join('\n')}`);
  });

  it('stores every field upstream stores, with the same value (nothing pruned, same defaults)', () => {
    // Upstream's stored object is the reference: what it keeps of the corpus plus its defaults.
    const losses = corpus.flatMap((object, i) => {
      const [theirs, mine] = [verdicts.upstream[i], verdicts.ours[i]];
      if (!theirs?.stored || !mine?.stored) return [];
      const lost = droppedFields(theirs.stored.spec, mine.stored.spec);
      return lost.length > 0 ? [`- ${object.kind} ${object.metadata.name}: ours lost or changed ${lost.join(', ')}`] : [];
    });
    assert.equal(losses.length, 0, `${losses.length} objects stored differently:\n${losses.join('\n')}`);
  });

  for (const control of NEGATIVE_CONTROLS) {
    it(`refuses ${control.rule} on both servers (negative control)`, async () => {
      const valid = corpus.find((o) => o.kind === control.kind);
      assert.ok(valid, `no ${control.kind} in the corpus`);
      const invalid: CorpusObject = {
        ...valid,
        metadata: { name: `negative-${control.kind.toLowerCase()}` },
        spec: control.spec(valid.spec as Record<string, unknown>),
      };
      for (const [server, cp] of [['upstream', upstream], ['ours', ours]] as const) {
        const [verdict] = await dryRunApply(cp.binaries.kubectl, cp.kubeconfig, namespace, [invalid]);
        assert.equal(verdict?.accepted, false, `${server} accepted ${control.kind} ${invalid.metadata.name}: ${JSON.stringify(invalid.spec)}`);
        assert.match(verdict.error ?? '', control.refusal, `${server} refused for another reason`);
      }
    });
  }
});

/** One line per refused object: kind, name, server, the apiserver's error and the spec sent. */
function refusalsBy(server: string, verdicts: readonly Verdict[]): string[] {
  return verdicts
    .filter((v) => !v.accepted)
    .map((v) => {
      const spec = JSON.stringify(v.object.spec);
      const quoted = spec.length > QUOTED_SPEC_CHARS ? `${spec.slice(0, QUOTED_SPEC_CHARS)}…` : spec;
      return `- ${v.object.kind} ${v.object.metadata.name} refused by ${server}: ${v.error}\n  spec: ${quoted}`;
    });
}
