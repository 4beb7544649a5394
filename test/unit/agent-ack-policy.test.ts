/** How each outcome of a command becomes a JetStream acknowledgement (one place: ack-policy.ts). */
import { strict as assert } from 'node:assert';
import { backoffMs, decide, describeFailure, type DeliveryState } from '../../provider-agents/core/ack-policy.ts';
import {
  InvalidCommandError, LeaseBusyError, LeaseLostError, NotSupportedError, PermanentError, ShutdownError, StillPresentError, TransientError,
} from '../../provider-agents/core/errors.ts';

const first: DeliveryState = { deliveryCount: 1, maxDeliver: 10 };
const third: DeliveryState = { deliveryCount: 3, maxDeliver: 10 };
const last: DeliveryState = { deliveryCount: 10, maxDeliver: 10 };
const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });

describe('ack policy', () => {
  const table: Array<[string, Parameters<typeof decide>[0], DeliveryState, ReturnType<typeof decide>]> = [
    ['acks a finished command', 'done', first, { action: 'ack', outcome: 'success' }],
    ['acks a stale command (older generation) without applying it', 'stale', first, { action: 'ack', outcome: 'stale' }],
    ['naks a transient error after the backoff of its delivery', { error: new TransientError('down') }, third, { action: 'nak', delayMs: 5000, outcome: 'retry' }],
    ['naks a transient error after the delay the driver asks for', { error: new TransientError('lock', { retryAfterMs: 750 }) }, first, { action: 'nak', delayMs: 750, outcome: 'retry' }],
    ['naks a VM whose delete has not taken effect yet', { error: new StillPresentError('u') }, first, { action: 'nak', delayMs: 1000, outcome: 'retry' }],
    ['naks a lost lease for a retry', { error: new LeaseLostError('u') }, first, { action: 'nak', delayMs: 1000, outcome: 'retry' }],
    ['naks a busy VM after the backoff', { error: new LeaseBusyError('u', 'other') }, first, { action: 'nak', delayMs: 1000, outcome: 'busy' }],
    ['hands a command back at once on shutdown', { error: new ShutdownError() }, third, { action: 'nak', delayMs: 0, outcome: 'handed_back' }],
    ['hands a command back at once when its operation was aborted', { error: abort }, first, { action: 'nak', delayMs: 0, outcome: 'handed_back' }],
    ['terms a permanent error with its reason', { error: new PermanentError('no such image', { reason: 'ImageNotFound' }) }, first, { action: 'term', reason: 'ImageNotFound: no such image', outcome: 'failed' }],
    ['terms an unsupported operation', { error: new NotSupportedError('exportDisk', 'mock') }, first, { action: 'term', reason: 'NotSupported: exportDisk is not supported by the mock provider', outcome: 'failed' }],
    ['terms an invalid command', { error: new InvalidCommandError('no meta', 'invalid') }, first, { action: 'term', reason: 'invalid: no meta', outcome: 'rejected' }],
    ['retries an unexpected error as transient (a driver bug never drops a command)', { error: new TypeError('x is undefined') }, first, { action: 'nak', delayMs: 1000, outcome: 'retry' }],
    ['still naks on the last delivery, so the server raises its max-deliveries advisory', { error: new TransientError('down') }, last, { action: 'nak', delayMs: 30000, outcome: 'exhausted' }],
  ];
  for (const [rule, result, delivery, want] of table) {
    it(rule, () => assert.deepEqual(decide(result, delivery), want));
  }

  it('follows the topology backoff schedule and repeats its last step', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 9].map((n) => backoffMs(n)), [1000, 2000, 5000, 10000, 30000, 30000, 30000]);
  });

  it('describes a failure for the status event: reason, message and whether the agent retries', () => {
    assert.deepEqual(describeFailure(new TransientError('vCenter timed out'), first), { reason: 'ProviderUnreachable', message: 'vCenter timed out', retryable: true });
    assert.deepEqual(describeFailure(new PermanentError('no such image', { reason: 'ImageNotFound' }), first), { reason: 'ImageNotFound', message: 'no such image', retryable: false });
    assert.deepEqual(describeFailure(new TransientError('down'), last), { reason: 'RetriesExhausted', message: 'gave up after 10 deliveries: down', retryable: false });
    assert.equal(describeFailure(new Error('boom'), first).reason, 'InternalError');
  });
});
