import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CRDS } from '../../../api/kinds/index.ts';
import { isKind, KINDS, mutators, mutatorsFor, validatorFor, validators } from '../../../webhook/kinds/index.ts';
import { RULE_DESCRIPTIONS } from '../../../webhook/kinds/rule-names.ts';
import { aVirtualMachine, aWorld } from '../../support/builders.ts';

const KINDS_DIR = new URL('../../../webhook/kinds/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

describe('webhook/kinds: the rule tables', () => {
  it('know exactly the kinds of the CRDs', () => {
    assert.deepEqual([...KINDS].sort(), ALL_CRDS.map((c) => c.kind).sort());
  });

  it('have a validator for every kind with rules of its own, and only functions', () => {
    assert.deepEqual(Object.keys(validators).sort(), ['Provider', 'VMClass', 'VMClone', 'VMMigration', 'VMPlacementPolicy', 'VMSet', 'VMSnapshot', 'VirtualMachine']);
    for (const v of Object.values(validators)) assert.equal(typeof v, 'function');
  });

  it('run VirtualMachine mutators in a fixed order: powerState, labels, placement', () => {
    assert.deepEqual((mutators.VirtualMachine ?? []).map((m) => m.name), ['defaultPowerState', 'labelProvider', 'labelClass', 'fillPlacementFromPolicy']);
  });

  it('answer by run-time kind name, and nothing for unknown or rule-less kinds', () => {
    assert.equal(validatorFor('VirtualMachine'), validators.VirtualMachine);
    assert.equal(validatorFor('Pod'), undefined);
    assert.equal(validatorFor('VMImage'), undefined);
    assert.equal(mutatorsFor('VMSet').length, 3);
    assert.deepEqual(mutatorsFor('Pod'), []);
    assert.equal(isKind('VMClass'), true);
    assert.equal(isKind('toString'), false);
  });

  it('validate through validatorFor as through the typed table', () => {
    const vm = aVirtualMachine({ spec: { disks: [{ name: 'a', sizeGiB: 1 }, { name: 'a', sizeGiB: 1 }] } });
    const result = validatorFor('VirtualMachine')!({ operation: 'CREATE', object: vm, lookup: aWorld() });
    assert.deepEqual(result.errors.map((e) => e.field), ['spec.disks[1].name']);
  });
});

describe('webhook/kinds: the rule catalogue', () => {
  const used = new Set(sources(KINDS_DIR).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/ruleErrors\('([a-z0-9-]+)'\)/g)].map((m) => m[1]!)));

  it('names every rule in kebab-case with a description', () => {
    for (const [name, description] of Object.entries(RULE_DESCRIPTIONS)) {
      assert.match(name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(description.length > 10, name);
    }
  });

  it('has no rule that no code enforces', () => {
    assert.deepEqual(Object.keys(RULE_DESCRIPTIONS).filter((r) => !used.has(r)), []);
  });

  it('stays pure: webhook/kinds imports only api/, webhook/framework/ and itself, never Node or the server', () => {
    for (const f of sources(KINDS_DIR)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)) {
        const spec = m[1]!;
        assert.ok(spec.startsWith('.'), `${f} imports ${spec}`);
        assert.doesNotMatch(spec, /\/(server|cache)\//, `${f} imports ${spec}`);
      }
    }
  });

  it('uses no `export *` in webhook/kinds', () => {
    for (const f of sources(KINDS_DIR)) assert.doesNotMatch(readFileSync(f, 'utf8'), /export \*/, f);
  });
});
