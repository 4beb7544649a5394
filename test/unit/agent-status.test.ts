/** The phase and conditions an agent reports, by what happened. */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { ObservedVMSchema, Phase, PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { convergedEvent, deletedEvent, failureEvent, progressEvent, type EventBody } from '../../provider-agents/core/status.ts';

const conditions = (b: EventBody) => Object.fromEntries((b.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
const aVm = (power: PowerState) => create(ObservedVMSchema, { id: 'vm-1', exists: true, powerState: power });

describe('status events', () => {
  it('reports a created running VM as Ready/Running, Provisioning False/Created', () => {
    const b = convergedEvent(aVm(PowerState.ON), 4n, { created: true, restartRequired: [] });
    assert.equal(b.phase, Phase.RUNNING);
    assert.equal(b.observedGeneration, 4n);
    assert.deepEqual(conditions(b), { Ready: 'True/Running', Provisioning: 'False/Created', Reconfiguring: 'False/Reconfigured' });
  });

  it('reports a VM powered off as desired as Stopped, still Ready', () => {
    const b = convergedEvent(aVm(PowerState.OFF), 2n, { created: false, restartRequired: [] });
    assert.equal(b.phase, Phase.STOPPED);
    assert.deepEqual(conditions(b), { Ready: 'True/Stopped', Provisioning: 'False/Provisioned', Reconfiguring: 'False/Reconfigured' });
  });

  it('reports changes waiting for a power cycle as Reconfiguring True/RestartRequired, naming them', () => {
    const b = convergedEvent(aVm(PowerState.ON), 2n, { created: false, restartRequired: ['cpus', 'memory'] });
    assert.equal(conditions(b).Reconfiguring, 'True/RestartRequired');
    assert.match(b.conditions!.find((c) => c.type === 'Reconfiguring')!.message, /cpus, memory/);
  });

  it('reports a deleted VM as PHASE_DELETED, and a released adopted one as Released', () => {
    assert.deepEqual([deletedEvent(3n, false).phase, conditions(deletedEvent(3n, false))], [Phase.DELETED, { Ready: 'False/Deleted' }]);
    assert.deepEqual(conditions(deletedEvent(3n, true)), { Ready: 'False/Released' });
  });

  it('reports a retryable failure without touching the phase, Ready Unknown with the reason', () => {
    const b = failureEvent({ reason: 'ProviderUnreachable', message: 'timeout', retryable: true }, { permanent: false });
    assert.equal(b.phase, Phase.UNSPECIFIED);
    assert.equal(b.error?.retryable, true);
    assert.deepEqual(conditions(b), { Ready: 'Unknown/ProviderUnreachable' });
  });

  it('reports a permanent failure as PHASE_FAILED, Ready False', () => {
    const b = failureEvent({ reason: 'ImageNotFound', message: 'no image', retryable: false }, { permanent: true });
    assert.deepEqual([b.phase, conditions(b)], [Phase.FAILED, { Ready: 'False/ImageNotFound' }]);
  });

  it('reports progress of a long create as Provisioning True/InProgress', () => {
    const b = progressEvent(Phase.PROVISIONING, 50, 'cloning disk');
    assert.deepEqual([b.progress?.percent, conditions(b)], [50, { Provisioning: 'True/InProgress' }]);
  });
});
