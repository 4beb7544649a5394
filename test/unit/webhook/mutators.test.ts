import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LABEL_CLASS, LABEL_PROVIDER, type AnyVirtRigaudObject, type VirtualMachine, type VMSet } from '../../../api/objects.ts';
import type { Lookup, Mutator, Operation } from '../../../webhook/framework/types.ts';
import { mutators } from '../../../webhook/kinds/index.ts';
import { labelClass, labelProvider } from '../../../webhook/kinds/virtualmachine/mutate-labels.ts';
import { fillPlacementFromPolicy } from '../../../webhook/kinds/virtualmachine/mutate-placement.ts';
import { defaultPowerState } from '../../../webhook/kinds/virtualmachine/mutate-power-state.ts';
import { defaultTemplatePowerState, labelTemplateClass, labelTemplateProvider } from '../../../webhook/kinds/vmset/mutate-template.ts';
import { anInMemoryLookup, aPlacementPolicy, aVirtualMachine, aVMSet, aWorld } from '../../support/builders.ts';

/** Runs one mutator on a copy; returns what it reported and the copy. */
function mutate<T extends AnyVirtRigaudObject>(m: Mutator<T>, input: { object: T; oldObject?: T; operation?: Operation; lookup?: Lookup }): { changed: boolean; object: T } {
  const object = structuredClone(input.object);
  const changed = m({
    operation: input.operation ?? (input.oldObject ? 'UPDATE' : 'CREATE'),
    object,
    ...(input.oldObject ? { oldObject: input.oldObject } : {}),
    lookup: input.lookup ?? anInMemoryLookup(),
  });
  return { changed, object };
}

describe('VirtualMachine mutation: spec.powerState defaults to On', () => {
  const cases: Array<{ name: string; vm: VirtualMachine; operation?: Operation; changed: boolean; want: string | undefined }> = [
    { name: 'sets powerState On when unset', vm: aVirtualMachine(), changed: true, want: 'On' },
    { name: 'never changes a powerState the user set (Off)', vm: aVirtualMachine({ spec: { powerState: 'Off' } }), changed: false, want: 'Off' },
    { name: 'never changes a powerState the user set (OffGraceful)', vm: aVirtualMachine({ spec: { powerState: 'OffGraceful' } }), changed: false, want: 'OffGraceful' },
    { name: 'does nothing on DELETE', vm: aVirtualMachine(), operation: 'DELETE', changed: false, want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = mutate(defaultPowerState, { object: c.vm, ...(c.operation ? { operation: c.operation } : {}) });
      assert.equal(r.changed, c.changed);
      assert.equal(r.object.spec.powerState, c.want);
    });
  }
});

describe('VirtualMachine mutation: labels virtrigaud.io/provider and virtrigaud.io/class from the refs', () => {
  it('sets both labels from providerRef and classRef when absent', () => {
    const p = mutate(labelProvider, { object: aVirtualMachine() });
    const c = mutate(labelClass, { object: p.object });
    assert.equal(p.changed && c.changed, true);
    assert.deepEqual(c.object.metadata.labels, { [LABEL_PROVIDER]: 'vsphere-prod', [LABEL_CLASS]: 'small' });
  });

  it('keeps the labels the user has, adding beside them', () => {
    const r = mutate(labelClass, { object: aVirtualMachine({ metadata: { labels: { app: 'web' } } }) });
    assert.deepEqual(r.object.metadata.labels, { app: 'web', [LABEL_CLASS]: 'small' });
  });

  it('never changes a label value the user set', () => {
    const r = mutate(labelClass, { object: aVirtualMachine({ metadata: { labels: { [LABEL_CLASS]: 'gold' } } }) });
    assert.equal(r.changed, false);
    assert.equal(r.object.metadata.labels?.[LABEL_CLASS], 'gold');
  });

  it('follows a class change when the label only mirrored the stored classRef', () => {
    const stored = aVirtualMachine({ metadata: { labels: { [LABEL_CLASS]: 'small' } } });
    const updated = aVirtualMachine({ metadata: { labels: { [LABEL_CLASS]: 'small' } }, spec: { classRef: { name: 'large' } } });
    const r = mutate(labelClass, { object: updated, oldObject: stored });
    assert.equal(r.changed, true);
    assert.equal(r.object.metadata.labels?.[LABEL_CLASS], 'large');
  });

  it('keeps a user-set label across a class change (it never mirrored the ref)', () => {
    const stored = aVirtualMachine({ metadata: { labels: { [LABEL_CLASS]: 'gold-tier' } } });
    const updated = aVirtualMachine({ metadata: { labels: { [LABEL_CLASS]: 'gold-tier' } }, spec: { classRef: { name: 'large' } } });
    assert.equal(mutate(labelClass, { object: updated, oldObject: stored }).object.metadata.labels?.[LABEL_CLASS], 'gold-tier');
  });

  it('leaves out a ref name that cannot be a label value (over 63 characters)', () => {
    const long = 'a'.repeat(64);
    const r = mutate(labelClass, { object: aVirtualMachine({ spec: { classRef: { name: long } } }) });
    assert.equal(r.changed, false);
    assert.equal(r.object.metadata.labels, undefined);
  });

  it('steps aside from a malformed object (mutation runs before the schema check)', () => {
    const broken = { ...aVirtualMachine(), spec: { classRef: 'small' } } as unknown as VirtualMachine;
    assert.equal(mutate(labelClass, { object: broken }).changed, false);
    assert.equal(mutate(labelProvider, { object: broken }).changed, false);
  });
});

describe("VirtualMachine mutation: placement filled from the policy's soft preferences", () => {
  const policy = aPlacementPolicy({
    spec: {
      hard: { excludedClusters: ['legacy'], datastores: ['ssd-1', 'ssd-2'] },
      soft: { clusters: ['legacy', 'prod-a'], datastores: ['hdd-1', 'ssd-2'], folders: ['web'], hosts: ['esx-1', 'esx-2'] },
      antiAffinity: { hostAntiAffinity: { enabled: true, scope: 'strict', maxVMsPerHost: 1 } },
    },
  });
  const onEsx1 = aVirtualMachine({ metadata: { name: 'web-0' }, spec: { placementRef: { name: 'spread' }, placement: { host: 'esx-1' } } });
  const world = aWorld({ policies: [policy], vms: [onEsx1] });
  const vm = (placement?: VirtualMachine['spec']['placement']) => aVirtualMachine({ spec: { placementRef: { name: 'spread' }, ...(placement ? { placement } : {}) } });

  it('fills each open field with the first preference the hard constraints and limits allow', () => {
    const r = mutate(fillPlacementFromPolicy, { object: vm(), lookup: world });
    assert.equal(r.changed, true);
    assert.deepEqual(r.object.spec.placement, { cluster: 'prod-a', host: 'esx-2', datastore: 'ssd-2', folder: 'web' });
  });

  it('never changes a placement the user set, and leaves fields that could contradict it open', () => {
    const r = mutate(fillPlacementFromPolicy, { object: vm({ cluster: 'prod-z', datastore: 'ssd-1' }), lookup: world });
    assert.deepEqual(r.object.spec.placement, { cluster: 'prod-z', datastore: 'ssd-1', folder: 'web' });
  });

  it('does nothing on UPDATE: placement is chosen once, at creation', () => {
    assert.equal(mutate(fillPlacementFromPolicy, { object: vm(), oldObject: vm(), lookup: world }).changed, false);
  });

  it('does nothing without a placementRef, or while the policy is missing', () => {
    assert.equal(mutate(fillPlacementFromPolicy, { object: aVirtualMachine(), lookup: world }).changed, false);
    assert.equal(mutate(fillPlacementFromPolicy, { object: vm(), lookup: aWorld() }).changed, false);
  });
});

describe('VMSet mutation: the template gets the VM defaults', () => {
  it('defaults the template powerState and labels the template from its refs', () => {
    let set: VMSet = aVMSet();
    for (const m of [defaultTemplatePowerState, labelTemplateProvider, labelTemplateClass]) set = mutate(m, { object: set }).object;
    assert.equal(set.spec.template.spec.powerState, 'On');
    assert.deepEqual(set.spec.template.metadata?.labels, { app: 'web', [LABEL_PROVIDER]: 'vsphere-prod', [LABEL_CLASS]: 'small' });
  });

  it('creates the template metadata when the template has none', () => {
    const r = mutate(labelTemplateClass, { object: aVMSet({ spec: { template: { metadata: undefined } } }) });
    assert.deepEqual(r.object.spec.template.metadata, { labels: { [LABEL_CLASS]: 'small' } });
  });

  it('never changes a template value the user set', () => {
    const set = aVMSet({ spec: { template: { metadata: { labels: { [LABEL_PROVIDER]: 'mine' } }, spec: { powerState: 'Off' } } } });
    assert.equal(mutate(defaultTemplatePowerState, { object: set }).changed, false);
    assert.equal(mutate(labelTemplateProvider, { object: set }).changed, false);
  });
});

describe('mutators: properties', () => {
  const vmArb = fc.record({
    powerState: fc.option(fc.constantFrom('On' as const, 'Off' as const, 'OffGraceful' as const), { nil: undefined }),
    labels: fc.option(fc.dictionary(fc.constantFrom('app', LABEL_CLASS, LABEL_PROVIDER), fc.stringMatching(/^[a-z0-9]{1,8}$/)), { nil: undefined }),
    cluster: fc.option(fc.constantFrom('prod-a', 'prod-b'), { nil: undefined }),
    host: fc.option(fc.constantFrom('esx-1', 'esx-2'), { nil: undefined }),
  }).map((r) => aVirtualMachine({
    metadata: { labels: r.labels },
    spec: { powerState: r.powerState, placementRef: { name: 'spread' }, placement: { cluster: r.cluster, host: r.host } },
  }));
  const world = aWorld({ policies: [aPlacementPolicy({ spec: { soft: { clusters: ['prod-b'], hosts: ['esx-2'], folders: ['f'] } } })] });
  const chain = mutators.VirtualMachine ?? [];

  function runAll(vm: VirtualMachine): { vm: VirtualMachine; changed: boolean } {
    const copy = structuredClone(vm);
    let changed = false;
    for (const m of chain) changed = m({ operation: 'CREATE', object: copy, lookup: world }) || changed;
    return { vm: copy, changed };
  }

  it('never change a value the user set', () => {
    fc.assert(fc.property(vmArb, (vm) => {
      const out = runAll(vm).vm;
      if (vm.spec.powerState !== undefined) assert.equal(out.spec.powerState, vm.spec.powerState);
      for (const [k, v] of Object.entries(vm.metadata.labels ?? {})) assert.equal(out.metadata.labels?.[k], v);
      for (const f of ['cluster', 'host'] as const) if (vm.spec.placement?.[f] !== undefined) assert.equal(out.spec.placement?.[f], vm.spec.placement[f]);
    }));
  });

  it('are idempotent: a second pass changes nothing and reports so', () => {
    fc.assert(fc.property(vmArb, (vm) => {
      const once = runAll(vm).vm;
      const twice = runAll(once);
      assert.equal(twice.changed, false);
      assert.deepEqual(twice.vm, once);
    }));
  });

  it('report a change exactly when they made one', () => {
    fc.assert(fc.property(vmArb, (vm) => {
      const r = runAll(vm);
      assert.equal(r.changed, JSON.stringify(r.vm) !== JSON.stringify(vm));
    }));
  });
});
