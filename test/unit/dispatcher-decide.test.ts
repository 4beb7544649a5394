/** decide(vm, resolution, last): the dispatcher's rules, one row each. */
import { strict as assert } from 'node:assert';
import { ANNOTATION_ADOPT_ID, ANNOTATION_DESTROY_ADOPTED, ANNOTATION_FORCE_DELETE, FINALIZER_VM, type VirtualMachine } from '../../api/objects.ts';
import { commandId } from '../../dispatcher/reconcile/command-id.ts';
import { decide, type Decision, type DecideInput } from '../../dispatcher/reconcile/decide.ts';
import { hashDesired } from '../../dispatcher/reconcile/desired-hash.ts';
import { resolveDesired } from '../../dispatcher/resolve/resolve.ts';
import type { Resolution } from '../../dispatcher/resolve/types.ts';
import type { LastCommand } from '../../dispatcher/status/model.ts';
import { aVM, aVMClass, aProvider, aVMImage, aNetwork, lookupOf, secretsOf, type Overrides } from '../support/dispatcher-fixtures.ts';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
const lookup = lookupOf({ providers: [aProvider()], classes: [aVMClass()], images: [aVMImage()], networks: [aNetwork()] });

async function resolutionOf(vm: VirtualMachine): Promise<Resolution> {
  return resolveDesired(vm, lookup, secretsOf({}));
}

async function hashOf(vm: VirtualMachine): Promise<string> {
  const r = await resolutionOf(vm);
  if (r.kind !== 'resolved') throw new Error('fixture does not resolve');
  return hashDesired(r.desired);
}

const withFinalizer: Overrides<VirtualMachine> = { metadata: { finalizers: [FINALIZER_VM] } };

function lastFor(vm: VirtualMachine, hash: string, extra: Partial<LastCommand> = {}): LastCommand {
  const generation = vm.metadata.generation ?? 0;
  const sequence = extra.sequence ?? 1;
  return {
    id: commandId({ uid: vm.metadata.uid!, operation: 'Reconcile', sequence, generation, hash }),
    operation: 'Reconcile', sequence, generation, desiredHash: hash, publishedAt: '2026-11-25T11:00:00Z', streamSequence: 7, ...extra,
  };
}

async function run(vm: VirtualMachine, extra: Partial<DecideInput> = {}): Promise<Decision> {
  const resolution = vm.metadata.deletionTimestamp ? undefined : await resolutionOf(vm);
  return decide({ vm, resolution, providerType: 'libvirt', now: NOW, redispatchAfterExhaustedMs: HOUR, ...extra });
}

const cond = (d: Decision, type: string) => d.status?.conditions.find((c) => c.type === type);

describe('dispatcher decide: create and update', () => {
  it('adds the finalizer and publishes the first command (sequence 1) for a new VM', async () => {
    const vm = aVM();
    const d = await run(vm);
    const hash = await hashOf(vm);
    assert.equal(d.reason, 'create');
    assert.equal(d.finalizer, 'add');
    assert.equal(d.command?.operation, 'Reconcile');
    assert.equal(d.command?.id, commandId({ uid: vm.metadata.uid!, operation: 'Reconcile', sequence: 1, generation: 1, hash }));
    assert.deepEqual(d.command?.provider, { namespace: 'apps', name: 'kvm', type: 'libvirt' });
    assert.equal(d.status?.phase, 'Provisioning');
    assert.deepEqual([cond(d, 'Ready')?.status, cond(d, 'Ready')?.reason], ['False', 'Provisioning']);
    assert.deepEqual([cond(d, 'Provisioning')?.status, cond(d, 'Provisioning')?.reason], ['True', 'CommandPublished']);
    assert.deepEqual(
      { id: d.status?.lastCommand?.id, seq: d.status?.lastCommand?.sequence, gen: d.status?.lastCommand?.generation, hash: d.status?.lastCommand?.desiredHash },
      { id: d.command?.id, seq: 1, gen: 1, hash },
    );
  });

  it('publishes nothing when generation and desired state equal the last command', async () => {
    const vm = aVM({ ...withFinalizer, status: { id: 'dom-1' } });
    const last = lastFor(vm, await hashOf(vm));
    const d = await run(vm, { last });
    assert.equal(d.reason, 'unchanged');
    assert.equal(d.command, undefined);
    assert.equal(d.finalizer, undefined);
  });

  it('records the last command in status when only the ledger knows it (a status write was lost)', async () => {
    const vm = aVM({ ...withFinalizer });
    const last = lastFor(vm, await hashOf(vm));
    const d = await run(vm, { last });
    assert.equal(d.command, undefined);
    assert.deepEqual(d.status?.lastCommand, last);
  });

  it('publishes one new command (next sequence) after a spec change, as a reconfigure', async () => {
    const before = aVM({ ...withFinalizer, status: { id: 'dom-1' } });
    const last = lastFor(before, await hashOf(before));
    const after = aVM({ ...withFinalizer, metadata: { generation: 2 }, spec: { powerState: 'Off' }, status: { id: 'dom-1' } });
    const d = await run(after, { last });
    assert.equal(d.reason, 'update');
    assert.equal(d.command?.sequence, 2);
    assert.equal(d.command?.generation, 2);
    assert.equal(d.status?.phase, 'Reconfiguring');
    assert.deepEqual([cond(d, 'Reconfiguring')?.status, cond(d, 'Ready')?.reason], ['True', 'Reconfiguring']);
  });

  it('publishes when a dependency changed the desired state at the same generation', async () => {
    const vm = aVM({ ...withFinalizer, status: { id: 'dom-1' } });
    const d = await run(vm, { last: lastFor(vm, 'an-older-hash') });
    assert.equal(d.reason, 'update');
    assert.equal(d.command?.generation, 1);
    assert.equal(d.command?.sequence, 2);
  });

  it('gives A → B → A three different command ids (never taken for a duplicate)', async () => {
    const a = aVM({ ...withFinalizer });
    const b = aVM({ ...withFinalizer, spec: { powerState: 'Off' } });
    const d1 = await run(a);
    const d2 = await run(b, { last: d1.status?.lastCommand });
    const d3 = await run(a, { last: d2.status?.lastCommand });
    const ids = [d1, d2, d3].map((d) => d.command?.id);
    assert.equal(new Set(ids).size, 3);
    assert.equal(d1.status?.lastCommand?.desiredHash, d3.status?.lastCommand?.desiredHash);
  });

  it('computes the same command id again for the same state (a republish after a crash is deduplicated)', async () => {
    const vm = aVM();
    const [d1, d2] = [await run(vm), await run(vm)];
    assert.equal(d1.command?.id, d2.command?.id);
  });
});

describe('dispatcher decide: dependencies and invalid specs', () => {
  it('waits for a missing class: no finalizer, no command, WaitingForDependencies naming it', async () => {
    const vm = aVM({ spec: { classRef: { name: 'large' } } });
    const d = await run(vm);
    assert.equal(d.reason, 'waiting');
    assert.equal(d.finalizer, undefined);
    assert.equal(d.command, undefined);
    assert.deepEqual(cond(d, 'WaitingForDependencies'), { type: 'WaitingForDependencies', status: 'True', reason: 'DependenciesMissing', message: 'waiting for VMClass apps/large' });
    assert.deepEqual([cond(d, 'Ready')?.status, cond(d, 'Ready')?.reason], ['False', 'WaitingForDependencies']);
    assert.equal(d.status?.phase, 'Pending');
  });

  it('leaves Ready alone while waiting when a VM already exists (the VM keeps running)', async () => {
    const vm = aVM({ ...withFinalizer, spec: { classRef: { name: 'large' } }, status: { phase: 'Running', id: 'dom-1' } });
    const d = await run(vm, { last: lastFor(vm, 'h') });
    assert.equal(cond(d, 'Ready'), undefined);
    assert.equal(d.status?.phase, 'Running');
  });

  it('clears WaitingForDependencies once the dependency exists', async () => {
    const vm = aVM({ status: { conditions: [{ type: 'WaitingForDependencies', status: 'True', reason: 'DependenciesMissing', message: 'x', lastTransitionTime: '2026-11-25T10:00:00Z' }] } });
    const d = await run(vm);
    assert.equal(d.reason, 'create');
    assert.deepEqual([cond(d, 'WaitingForDependencies')?.status, cond(d, 'WaitingForDependencies')?.reason], ['False', 'DependenciesResolved']);
  });

  it('an invalid spec publishes nothing and says why in Ready', async () => {
    const vm = aVM({ spec: { lifecycle: { gracefulShutdownTimeout: 'later' } } });
    const d = await run(vm);
    assert.equal(d.reason, 'invalid');
    assert.equal(d.command, undefined);
    assert.equal(cond(d, 'Ready')?.reason, 'InvalidSpec');
    assert.match(cond(d, 'Ready')!.message, /gracefulShutdownTimeout/);
  });
});

describe('dispatcher decide: delete', () => {
  const deleting: Overrides<VirtualMachine> = { metadata: { deletionTimestamp: '2026-11-25T11:59:00Z', finalizers: [FINALIZER_VM], generation: 2 } };

  it('does nothing for a VM without our finalizer', async () => {
    const d = await run(aVM({ metadata: { deletionTimestamp: '2026-11-25T11:59:00Z' } }));
    assert.deepEqual(d, { reason: 'no-finalizer' });
  });

  it('publishes DeleteVM and keeps the finalizer', async () => {
    const vm = aVM({ ...deleting, status: { id: 'dom-1' } });
    const d = await run(vm, { last: lastFor(aVM(), 'h') });
    assert.equal(d.reason, 'delete');
    assert.equal(d.finalizer, undefined);
    assert.equal(d.command?.operation, 'Delete');
    assert.equal(d.command?.sequence, 2);
    assert.deepEqual(d.command?.operation === 'Delete' && [d.command.delete.id, d.command.delete.adopted, d.command.delete.gracefulTimeoutSeconds], ['dom-1', false, 60]);
    assert.equal(d.status?.phase, 'Deleting');
    assert.deepEqual([cond(d, 'Deleting')?.status, cond(d, 'Deleting')?.reason], ['True', 'DeleteRequested']);
  });

  it('publishes DeleteVM even if no command was recorded (a create may have gone out before a crash)', async () => {
    const d = await run(aVM({ ...deleting }));
    assert.equal(d.command?.operation, 'Delete');
    assert.equal(d.command?.sequence, 1);
  });

  it('waits for PHASE_DELETED once DeleteVM is out: no command, the finalizer stays (provider reachable or not)', async () => {
    const vm = aVM({ ...deleting });
    const last: LastCommand = { ...lastFor(vm, 'delete'), operation: 'Delete' };
    const d = await run(vm, { last });
    assert.equal(d.reason, 'delete-pending');
    assert.equal(d.command, undefined);
    assert.equal(d.finalizer, undefined);
  });

  it('removes the finalizer at once with virtrigaud.io/force-delete: "true" (no command)', async () => {
    const d = await run(aVM({ ...deleting, metadata: { ...deleting.metadata, annotations: { [ANNOTATION_FORCE_DELETE]: 'true' } } }));
    assert.deepEqual(d, { reason: 'force-delete', finalizer: 'remove' });
  });

  it('ignores force-delete unless it is exactly "true"', async () => {
    const d = await run(aVM({ ...deleting, metadata: { ...deleting.metadata, annotations: { [ANNOTATION_FORCE_DELETE]: 'yes' } } }));
    assert.equal(d.reason, 'delete');
  });

  it('an adopted VM is only released on delete unless destroy-adopted is "true"', async () => {
    const adopted = await run(aVM({ ...deleting, metadata: { ...deleting.metadata, annotations: { [ANNOTATION_ADOPT_ID]: 'vm-42' } } }));
    assert.deepEqual(adopted.command?.operation === 'Delete' && [adopted.command.delete.adopted, adopted.command.delete.destroyAdopted], [true, false]);
    const destroy = await run(aVM({ ...deleting, metadata: { ...deleting.metadata, annotations: { [ANNOTATION_ADOPT_ID]: 'vm-42', [ANNOTATION_DESTROY_ADOPTED]: 'true' } } }));
    assert.deepEqual(destroy.command?.operation === 'Delete' && [destroy.command.delete.adopted, destroy.command.delete.destroyAdopted], [true, true]);
  });
});

describe('dispatcher decide: commands the bus gave up delivering', () => {
  it('waits out the redispatch delay (requeue for the remainder)', async () => {
    const vm = aVM({ ...withFinalizer });
    const last = lastFor(vm, await hashOf(vm), { deliveryExhaustedAt: new Date(NOW - 10 * 60_000).toISOString() });
    const d = await run(vm, { last });
    assert.equal(d.reason, 'exhausted-wait');
    assert.equal(d.command, undefined);
    assert.equal(d.requeueAfterMs, HOUR - 10 * 60_000);
  });

  it('publishes again under a new id once the delay is over', async () => {
    const vm = aVM({ ...withFinalizer });
    const last = lastFor(vm, await hashOf(vm), { deliveryExhaustedAt: new Date(NOW - 2 * HOUR).toISOString() });
    const d = await run(vm, { last });
    assert.equal(d.reason, 'redispatch');
    assert.equal(d.command?.sequence, 2);
    assert.notEqual(d.command?.id, last.id);
    assert.equal(d.status?.lastCommand?.deliveryExhaustedAt, undefined);
  });

  it('re-sends an exhausted DeleteVM after the delay too', async () => {
    const vm = aVM({ metadata: { deletionTimestamp: '2026-11-25T09:00:00Z', finalizers: [FINALIZER_VM] } });
    const last: LastCommand = { ...lastFor(vm, 'delete'), operation: 'Delete', deliveryExhaustedAt: new Date(NOW - 2 * HOUR).toISOString() };
    const d = await run(vm, { last });
    assert.equal(d.reason, 'delete');
    assert.equal(d.command?.operation, 'Delete');
  });
});
