/**
 * The compatibility corpus: for every upstream kind, a fixed number of objects generated from the
 * upstream spec schema, deterministic for a seed (a failure names an object that the next run
 * generates again, identically).
 */
import fc from 'fast-check';
import { schemaArbitrary } from './schema-arbitrary.ts';
import { DELIBERATE_REFUSALS } from './shape-rules.ts';
import { loadUpstreamKinds, type UpstreamKind } from './upstream-crds.ts';

/** One generated custom resource (namespace is set when it is submitted). */
export interface CorpusObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: unknown;
}

/** Options of {@link generateCorpus}. */
export interface CorpusOptions {
  /** Same seed, same corpus. */
  seed: number;
  /** Objects per kind. */
  perKind: number;
  /** Kinds to generate; all ten upstream kinds when omitted. */
  kinds?: UpstreamKind[];
}

/**
 * Chance of setting an optional field, cycled through per object: objects 0, 5, 10… of a kind set
 * required fields only (upstream's minimum must pass), the others ever more optional fields.
 */
export const DENSITIES: readonly number[] = [0, 0.35, 0.6, 0.8, 1];

/** Generates the corpus, kind by kind in upstream file order, names `<kind>-<nnn>`. */
export function generateCorpus(options: CorpusOptions): CorpusObject[] {
  const kinds = options.kinds ?? loadUpstreamKinds();
  return kinds.flatMap((k) => generateKind(k, options.seed, options.perKind));
}

function generateKind(k: UpstreamKind, seed: number, count: number): CorpusObject[] {
  const rules = DELIBERATE_REFUSALS[k.kind];
  // One arbitrary per density, each sampled for its share of the objects. Each sample gets its
  // own seed from (seed, kind, density), so a kind's objects do not change when kinds are added
  // and nearby seeds give unrelated corpora.
  const specs = DENSITIES.map((density, i) => {
    const share = Math.ceil((count - i) / DENSITIES.length);
    const arb = schemaArbitrary(k.spec, 'spec', { density, rules });
    return share > 0 ? fc.sample(arb, { seed: mixSeed(`${seed}/${k.kind}/${i}`), numRuns: share }) : [];
  });
  return Array.from({ length: count }, (_, n) => {
    const spec = specs[n % DENSITIES.length]![Math.floor(n / DENSITIES.length)];
    return {
      apiVersion: k.apiVersion,
      kind: k.kind,
      metadata: { name: `${k.kind.toLowerCase()}-${String(n).padStart(3, '0')}` },
      spec,
    };
  });
}

/** The corpus as a v1 List for one `kubectl apply`, every object placed in `namespace`. */
export function asList(objects: readonly CorpusObject[], namespace: string): { apiVersion: 'v1'; kind: 'List'; items: CorpusObject[] } {
  return { apiVersion: 'v1', kind: 'List', items: objects.map((o) => inNamespace(o, namespace)) };
}

/** A copy of `object` placed in `namespace`. */
export function inNamespace(object: CorpusObject, namespace: string): CorpusObject {
  return { ...object, metadata: { ...object.metadata, namespace } };
}

/** FNV-1a of a text, as a 32-bit seed. */
function mixSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}
