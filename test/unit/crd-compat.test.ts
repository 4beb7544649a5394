/**
 * Structural comparison of our CRDs with the original's (../shared/compat/upstream-crds): every
 * name, field, type, enum, default and constraint the original has, ours has too, except the
 * deliberate, documented corrections listed here.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderCrd } from '../../api/crd.ts';
import { ALL_CRDS } from '../../api/kinds/index.ts';

const UPSTREAM = new URL('../../../shared/compat/upstream-crds', import.meta.url).pathname;

type Node = Record<string, unknown>;

/** Paths where ours deliberately differs, and why (each is also described in the CRD itself). */
const CORRECTIONS: Record<string, string> = {
  'VMClass.spec.securityProfile.tpmVersion.enum': 'upstream enum is the numbers 1.2 and 2 on a string field: no value passes',
  'Provider.spec.endpoint.pattern': 'widened with an alternative for mock:// (the simulated hypervisor); every upstream endpoint still matches',
  'VMSet.spec.template.metadata.properties': 'upstream pruned template labels, so a selector could never match',
  'VMSet.spec.volumeClaimTemplates[].metadata.properties': 'same pruning of template labels',
};

/** Keys that must agree exactly wherever upstream sets them. */
const EXACT = ['type', 'format', 'default', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength',
  'minItems', 'maxItems', 'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type'];

function compare(up: Node, ours: Node | undefined, path: string, problems: string[]): void {
  if (!ours) {
    problems.push(`${path}: missing in ours`);
    return;
  }
  for (const key of EXACT) {
    if (key in up && !(`${path}.${key}` in CORRECTIONS) && JSON.stringify(up[key]) !== JSON.stringify(ours[key])) {
      problems.push(`${path}.${key}: upstream ${JSON.stringify(up[key])}, ours ${JSON.stringify(ours[key])}`);
    }
  }
  // An enum may grow (accepting more), never lose a value.
  if (Array.isArray(up.enum) && !(`${path}.enum` in CORRECTIONS)) {
    const ourValues = (ours.enum as unknown[] | undefined) ?? [];
    const lost = up.enum.filter((v) => !ourValues.some((o) => JSON.stringify(o) === JSON.stringify(v)));
    if (lost.length || !Array.isArray(ours.enum)) problems.push(`${path}.enum: upstream ${JSON.stringify(up.enum)}, ours ${JSON.stringify(ours.enum)}`);
  }
  const upRequired = new Set((up.required as string[] | undefined) ?? []);
  for (const r of (ours.required as string[] | undefined) ?? []) {
    if (!upRequired.has(r)) problems.push(`${path}.required: ours requires ${r}, upstream does not`);
  }
  const upProps = (up.properties ?? {}) as Record<string, Node>;
  const ourProps = (ours.properties ?? {}) as Record<string, Node>;
  if (!(`${path}.properties` in CORRECTIONS)) {
    for (const [name, child] of Object.entries(upProps)) compare(child, ourProps[name], `${path}.${name}`, problems);
  }
  if (up.items) compare(up.items as Node, ours.items as Node | undefined, `${path}[]`, problems);
  if (typeof up.additionalProperties === 'object') {
    compare(up.additionalProperties as Node, ours.additionalProperties as Node | undefined, `${path}{}`, problems);
  }
}

function upstreamCrds(): Map<string, Node> {
  const byKind = new Map<string, Node>();
  for (const file of readdirSync(UPSTREAM)) {
    const crd = parse(readFileSync(join(UPSTREAM, file), 'utf8')) as Node;
    const spec = crd.spec as { names: { kind: string } };
    byKind.set(spec.names.kind, crd);
  }
  return byKind;
}

describe('CRD compatibility with the original VirtRigaud', () => {
  const upstream = upstreamCrds();

  it('covers the same ten kinds', () => {
    assert.deepEqual([...upstream.keys()].sort(), ALL_CRDS.map((d) => d.kind).sort());
  });

  for (const def of ALL_CRDS) {
    describe(def.kind, () => {
      const ours = renderCrd(def) as { spec: Node & { names: Node; versions: Node[] } };
      const theirs = () => upstream.get(def.kind) as { spec: Node & { names: Node; versions: Node[] } };

      it('keeps group, scope, plural, singular and short names', () => {
        const t = theirs().spec;
        assert.equal(ours.spec.group, t.group);
        assert.equal(ours.spec.scope, t.scope);
        for (const key of ['kind', 'plural', 'singular', 'shortNames']) {
          assert.deepEqual(ours.spec.names[key], t.names[key], `names.${key}`);
        }
        assert.deepEqual(ours.spec.names.categories, ['virtrigaud']);
      });

      it('has every upstream field with the same type, enum, default and constraints', () => {
        const problems: string[] = [];
        const schema = (v: Node) => (v.schema as { openAPIV3Schema: Node }).openAPIV3Schema;
        compare(schema(theirs().spec.versions[0]!), schema(ours.spec.versions[0]!), def.kind, problems);
        assert.deepEqual(problems, []);
      });

      it('has a status subresource', () => {
        assert.deepEqual((ours.spec.versions[0]!.subresources as Node).status, {});
      });
    });
  }

  it('flags a field removed from ours (the comparison can fail)', () => {
    const problems: string[] = [];
    compare({ properties: { a: { type: 'string' } } }, { properties: {} }, 'X', problems);
    compare({ type: 'string', enum: ['On'] }, { type: 'string', enum: [true] }, 'Y', problems);
    assert.deepEqual(problems, ['X.a: missing in ours', 'Y.enum: upstream ["On"], ours [true]']);
  });
});
