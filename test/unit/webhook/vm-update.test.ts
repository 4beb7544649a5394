import assert from 'node:assert/strict';
import { validateVirtualMachine } from '../../../webhook/kinds/virtualmachine/validate-virtual-machine.ts';
import { assertDenied, run } from '../../support/admission-asserts.ts';
import { aPlacementPolicy, aVirtualMachine, aWorld } from '../../support/builders.ts';

describe('VirtualMachine: UPDATE is refused only for problems it adds (ratcheting)', () => {
  const tight = aPlacementPolicy({ spec: { hard: { clusters: ['prod-a'] } } });
  // Placed in prod-b before the policy was narrowed to prod-a.
  const stored = aVirtualMachine({ spec: { placementRef: { name: 'spread' }, placement: { cluster: 'prod-b' } } });
  const world = aWorld({ policies: [tight] });

  it('allows an update that leaves an old violation as it was (a label added)', () => {
    const updated = aVirtualMachine({ metadata: { labels: { team: 'web' } }, spec: stored.spec });
    assert.deepEqual(run(validateVirtualMachine, { object: updated, oldObject: stored, lookup: world }).errors, []);
  });

  it('denies an update that adds a new violation, reporting only the new one', () => {
    const updated = aVirtualMachine({ spec: { ...stored.spec, disks: [{ name: 'a', sizeGiB: 1 }, { name: 'a', sizeGiB: 2 }] } });
    assertDenied(run(validateVirtualMachine, { object: updated, oldObject: stored, lookup: world }), [{ field: 'spec.disks[1].name', rule: 'disk-names-unique' }]);
  });

  it('denies an update that changes the violating value to another violating value', () => {
    const updated = aVirtualMachine({ spec: { ...stored.spec, placement: { cluster: 'prod-c' } } });
    assertDenied(run(validateVirtualMachine, { object: updated, oldObject: stored, lookup: world }), [{ field: 'spec.placement.cluster', rule: 'placement-allowed' }]);
  });

  it('allows an update of a VM whose host filled up meanwhile, though the count in the message changed', () => {
    const limited = aPlacementPolicy({ spec: { antiAffinity: { hostAntiAffinity: { enabled: true, scope: 'strict', maxVMsPerHost: 1 } } } });
    const onHost = (name: string) => aVirtualMachine({ metadata: { name }, spec: { placementRef: { name: 'spread' }, placement: { host: 'esx-1' } } });
    const me = onHost('web-1');
    const crowded = aWorld({ policies: [limited], vms: [me, onHost('web-2'), onHost('web-3')] });
    const updated = aVirtualMachine({ metadata: { name: 'web-1', labels: { x: 'y' } }, spec: me.spec });
    assert.deepEqual(run(validateVirtualMachine, { object: updated, oldObject: me, lookup: crowded }).errors, []);
  });

  it('allows any update of a VM being deleted, so its finalizer can come off', () => {
    const deleting = aVirtualMachine({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [] }, spec: { ...stored.spec, placement: { cluster: 'prod-c' } } });
    assert.deepEqual(run(validateVirtualMachine, { object: deleting, oldObject: stored, lookup: world }).errors, []);
  });

  it('says nothing on DELETE', () => {
    assert.deepEqual(run(validateVirtualMachine, { object: stored, oldObject: stored, operation: 'DELETE', lookup: world }), { errors: [], warnings: [] });
  });
});
