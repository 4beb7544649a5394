/** Status mutations: agent events, reconcile intents, delivery exhaustion, conditions, Events, merge patches. */
import { strict as assert } from 'node:assert';
import { create } from '@bufbuild/protobuf';
import { setConditions, timestamp } from '../../dispatcher/status/conditions.ts';
import { jsonEqual, mergePatch } from '../../dispatcher/status/merge-patch.ts';
import type { VMStatus } from '../../dispatcher/status/model.ts';
import { applyDeliveryExhausted, applyEvent, applyIntent, type EventContext } from '../../dispatcher/status/mutations.ts';
import { summarize, transitions } from '../../dispatcher/status/transitions.ts';
import {
  ErrorInfoSchema, ObjectRefSchema, ObservedVMSchema, Phase, PowerState, ProviderRefSchema, StatusEventSchema, type StatusEvent,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

const T0 = '2026-11-25T10:00:00Z';
const T1 = '2026-11-25T11:00:00Z';

function anEvent(overrides: Partial<Omit<StatusEvent, '$typeName'>> = {}): StatusEvent {
  return create(StatusEventSchema, {
    object: create(ObjectRefSchema, { namespace: 'apps', name: 'web', uid: 'u1', generation: 1n }),
    provider: create(ProviderRefSchema, { namespace: 'apps', name: 'kvm', type: 'libvirt' }),
    commandId: 'cmd-1',
    observedGeneration: 1n,
    phase: Phase.RUNNING,
    vm: create(ObservedVMSchema, { id: 'dom-1', exists: true, powerState: PowerState.ON, ips: ['10.0.0.5'], consoleUrl: 'vnc://h:5900' }),
    ...overrides,
  });
}

const provisioning: VMStatus = {
  phase: 'Provisioning',
  lastCommand: { id: 'cmd-1', operation: 'Reconcile', sequence: 1, generation: 1, desiredHash: 'h', publishedAt: T0, streamSequence: 3 },
  conditions: [
    { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'm', lastTransitionTime: T0, observedGeneration: 1 },
    { type: 'Provisioning', status: 'True', reason: 'CommandPublished', message: 'm', lastTransitionTime: T0, observedGeneration: 1 },
  ],
};
const ctx: EventContext = { currentCommandId: 'cmd-1', deleting: false, now: T1 };
const c = (s: VMStatus, type: string) => s.conditions?.find((x) => x.type === type);

describe('dispatcher status: agent events', () => {
  it('RUNNING answering the current command: Ready=True, phase, id, IPs, console, power, observedGeneration', () => {
    const { status, outcome } = applyEvent(provisioning, anEvent(), ctx);
    assert.equal(outcome, 'applied');
    assert.deepEqual(
      { phase: status.phase, id: status.id, ips: status.ips, console: status.consoleURL, power: status.powerState, og: status.observedGeneration },
      { phase: 'Running', id: 'dom-1', ips: ['10.0.0.5'], console: 'vnc://h:5900', power: 'On', og: 1 },
    );
    assert.deepEqual([c(status, 'Ready')?.status, c(status, 'Ready')?.reason, c(status, 'Ready')?.lastTransitionTime], ['True', 'Running', T1]);
    assert.deepEqual([c(status, 'Provisioning')?.status, c(status, 'Provisioning')?.reason], ['False', 'Provisioned']);
  });

  it('STOPPED: Ready=True reason Stopped, power Off', () => {
    const { status } = applyEvent(provisioning, anEvent({ phase: Phase.STOPPED, vm: create(ObservedVMSchema, { id: 'dom-1', exists: true, powerState: PowerState.OFF }) }), ctx);
    assert.deepEqual([status.phase, status.powerState, c(status, 'Ready')?.reason, status.ips], ['Stopped', 'Off', 'Stopped', []]);
  });

  it('ignores an event older than the generation status already reflects', () => {
    const at2: VMStatus = { ...provisioning, observedGeneration: 2 };
    const { status, outcome } = applyEvent(at2, anEvent({ observedGeneration: 1n }), ctx);
    assert.equal(outcome, 'stale');
    assert.equal(status, at2);
  });

  it('an answer to a superseded command updates observations only, never Ready', () => {
    const { status, outcome } = applyEvent(provisioning, anEvent({ commandId: 'cmd-0' }), ctx);
    assert.equal(outcome, 'superseded');
    assert.equal(status.id, 'dom-1');
    assert.equal(status.phase, 'Provisioning');
    assert.equal(c(status, 'Ready')?.status, 'False');
  });

  it('an unsolicited observation (no command id) applies in full', () => {
    const { outcome } = applyEvent(provisioning, anEvent({ commandId: '' }), ctx);
    assert.equal(outcome, 'applied');
  });

  it('PROVISIONING with progress: Provisioning=True and the progress in the message', () => {
    const { status } = applyEvent(provisioning, anEvent({ phase: Phase.PROVISIONING, progress: { $typeName: 'virtrigaud.bus.v1.TaskProgress', taskId: 't', percent: 40, description: 'cloning disk' } }), ctx);
    assert.match(c(status, 'Provisioning')!.message, /cloning disk/);
    assert.equal(status.message, 'cloning disk');
    assert.equal(c(status, 'Provisioning')?.lastTransitionTime, T0, 'status unchanged: lastTransitionTime kept');
  });

  it('a retryable error: Ready=False with the agent reason, phase kept', () => {
    const err = create(ErrorInfoSchema, { reason: 'ProviderUnreachable', message: 'cannot reach vCenter', retryable: true });
    const { status } = applyEvent(provisioning, anEvent({ phase: Phase.UNSPECIFIED, error: err }), ctx);
    assert.deepEqual([status.phase, c(status, 'Ready')?.reason], ['Provisioning', 'ProviderUnreachable']);
    assert.match(c(status, 'Ready')!.message, /cannot reach vCenter \(retrying\)/);
  });

  it('a terminal error: phase Failed, Provisioning=False with the reason', () => {
    const err = create(ErrorInfoSchema, { reason: 'InvalidSpec', message: 'no such template', retryable: false });
    const { status } = applyEvent(provisioning, anEvent({ phase: Phase.FAILED, error: err }), ctx);
    assert.deepEqual([status.phase, c(status, 'Ready')?.reason, c(status, 'Provisioning')?.status], ['Failed', 'InvalidSpec', 'False']);
  });

  it('PHASE_DELETED while deleting: outcome deleted (the finalizer may go), whatever its generation', () => {
    const { outcome } = applyEvent({ ...provisioning, observedGeneration: 5 }, anEvent({ phase: Phase.DELETED, observedGeneration: 1n }), { ...ctx, deleting: true });
    assert.equal(outcome, 'deleted');
  });

  it('PHASE_DELETED for a VM not being deleted: Ready=False VMMissing, nothing removed', () => {
    const { status, outcome } = applyEvent(provisioning, anEvent({ phase: Phase.DELETED, vm: undefined }), ctx);
    assert.equal(outcome, 'applied');
    assert.deepEqual([status.phase, c(status, 'Ready')?.reason], ['Failed', 'VMMissing']);
  });

  it('while deleting, a RUNNING observation does not bring back Ready or the phase', () => {
    const deleting: VMStatus = { ...provisioning, phase: 'Deleting' };
    const { status, outcome } = applyEvent(deleting, anEvent({ commandId: '' }), { ...ctx, deleting: true });
    assert.equal(outcome, 'superseded');
    assert.equal(status.phase, 'Deleting');
  });

  it('never mutates the status it is given', () => {
    const before = structuredClone(provisioning);
    applyEvent(provisioning, anEvent(), ctx);
    assert.deepEqual(provisioning, before);
  });
});

describe('dispatcher status: intents and delivery exhaustion', () => {
  it('applyIntent sets phase, lastCommand and conditions with the VM generation', () => {
    const s = applyIntent({}, {
      phase: 'Provisioning',
      lastCommand: provisioning.lastCommand!,
      conditions: [{ type: 'Provisioning', status: 'True', reason: 'CommandPublished', message: 'x' }, { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'x' }],
    }, 3, T1);
    assert.deepEqual(s.conditions?.map((x) => [x.type, x.observedGeneration, x.lastTransitionTime]), [['Ready', 3, T1], ['Provisioning', 3, T1]]);
    assert.equal(s.lastCommand?.id, 'cmd-1');
  });

  it('max deliveries on the current command: Ready=False CommandDeliveryExhausted, lastCommand marked', () => {
    const s = applyDeliveryExhausted(provisioning, { commandId: 'cmd-1', streamSequence: 3, deliveries: 10 }, T1, '2026-11-25T11:05:00Z');
    assert.equal(c(s, 'Ready')?.reason, 'CommandDeliveryExhausted');
    assert.match(c(s, 'Ready')!.message, /after 10 deliveries.*published again at 2026-11-25T11:05:00Z/);
    assert.equal(s.lastCommand?.deliveryExhaustedAt, T1);
  });

  it('max deliveries on an older command changes nothing', () => {
    const s = applyDeliveryExhausted(provisioning, { commandId: 'cmd-0', streamSequence: 2, deliveries: 10 }, T1, T1);
    assert.equal(s, provisioning);
  });

  it('matches by stream sequence when the advisory names no command', () => {
    const s = applyDeliveryExhausted(provisioning, { streamSequence: 3, deliveries: 10 }, T1, T1);
    assert.equal(c(s, 'Ready')?.reason, 'CommandDeliveryExhausted');
  });
});

describe('dispatcher status: conditions', () => {
  it('orders Ready, Provisioning, Reconfiguring, Deleting, WaitingForDependencies, then others by type', () => {
    const list = setConditions([], ['Zeta', 'WaitingForDependencies', 'Deleting', 'Alpha', 'Reconfiguring', 'Provisioning', 'Ready']
      .map((type) => ({ type, status: 'False' as const, reason: 'R', message: '' })), T0);
    assert.deepEqual(list.map((x) => x.type), ['Ready', 'Provisioning', 'Reconfiguring', 'Deleting', 'WaitingForDependencies', 'Alpha', 'Zeta']);
  });

  it('keeps lastTransitionTime when only reason or message change; moves it when status changes', () => {
    const start = setConditions([], [{ type: 'Ready', status: 'False', reason: 'A', message: 'a' }], T0);
    const sameStatus = setConditions(start, [{ type: 'Ready', status: 'False', reason: 'B', message: 'b' }], T1);
    const flipped = setConditions(start, [{ type: 'Ready', status: 'True', reason: 'C', message: 'c' }], T1);
    assert.equal(sameStatus[0]?.lastTransitionTime, T0);
    assert.equal(flipped[0]?.lastTransitionTime, T1);
  });

  it('timestamps are RFC 3339 to the second', () => {
    assert.equal(timestamp(Date.parse('2026-11-25T10:00:00.789Z')), '2026-11-25T10:00:00Z');
  });
});

describe('dispatcher status: Events for transitions', () => {
  it('reports the phase change and each condition whose status changed', () => {
    const after = applyEvent(provisioning, anEvent(), ctx).status;
    const list = transitions(provisioning, after);
    assert.deepEqual(list.map((t) => [t.type, t.reason]), [['Normal', 'PhaseRunning'], ['Normal', 'Running'], ['Normal', 'Provisioned']]);
    assert.match(list[1]!.message, /^Ready=True: the VM is running on provider apps\/kvm as dom-1/);
  });

  it('one Event per change: headed by Ready, every transition in its message', () => {
    const after = applyEvent(provisioning, anEvent(), ctx).status;
    const one = summarize(transitions(provisioning, after))!;
    assert.deepEqual([one.type, one.reason], ['Normal', 'Running']);
    assert.match(one.message, /^Ready=True: the VM is running.*; phase Provisioning → Running; Provisioning=False: /);
    assert.equal(summarize([]), undefined);
  });

  it('a Warning heads the Event of its change', () => {
    const list = [
      { type: 'Normal' as const, reason: 'PhaseFailed', message: 'phase Provisioning → Failed' },
      { type: 'Warning' as const, reason: 'InvalidSpec', message: 'Provisioning=False: bad disk' },
    ];
    assert.deepEqual([summarize(list)!.type, summarize(list)!.reason], ['Warning', 'InvalidSpec']);
  });

  it('reports nothing when nothing transitions', () => {
    assert.deepEqual(transitions(provisioning, provisioning), []);
  });

  it('a Warning when Ready turns to CommandDeliveryExhausted', () => {
    const after = applyDeliveryExhausted(provisioning, { commandId: 'cmd-1', streamSequence: 3, deliveries: 10 }, T1, T1);
    assert.deepEqual(transitions(provisioning, after).map((t) => [t.type, t.reason]), [['Warning', 'CommandDeliveryExhausted']]);
  });
});

describe('dispatcher status: merge patches', () => {
  it('sends only what changed, null for removed fields, arrays whole', () => {
    const from = { phase: 'Running', ips: ['a'], lastCommand: { id: 'x', deliveryExhaustedAt: T0 }, id: 'dom' };
    const to = { phase: 'Running', ips: ['a', 'b'], lastCommand: { id: 'y' }, id: 'dom' };
    assert.deepEqual(mergePatch(from, to), { ips: ['a', 'b'], lastCommand: { id: 'y', deliveryExhaustedAt: null } });
  });

  it('jsonEqual treats absent and undefined alike', () => {
    assert.ok(jsonEqual({ a: 1, b: undefined }, { a: 1 }));
    assert.ok(!jsonEqual({ a: [1, 2] }, { a: [2, 1] }));
  });
});
