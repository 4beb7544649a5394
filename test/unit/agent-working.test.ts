/** In-progress acks come before the server's real ack deadline, which backoff (not ack_wait) sets. */
import { strict as assert } from 'node:assert';
import { agentConsumerConfig } from '../../proto/bus/topology.ts';
import { ackDeadlineMs, workingIntervalMs } from '../../provider-agents/core/working.ts';

describe('in-progress acks', () => {
  const config = agentConsumerConfig({ namespace: 'ns', name: 'p' });

  it('takes the deadline of delivery n from the backoff list, repeating its last step', () => {
    assert.deepEqual([1, 2, 3, 5, 8].map((n) => ackDeadlineMs(config, n)), [1000, 2000, 5000, 30000, 30000]);
  });

  it('uses ack_wait when the consumer has no backoff', () => {
    assert.equal(ackDeadlineMs({ ack_wait: 30_000_000_000 }, 4), 30_000);
  });

  it('sends working() three times per deadline, at most every WORKING_INTERVAL_S, at least every 100 ms apart', () => {
    assert.deepEqual([1000, 5000, 30_000, 120_000, 90].map((ms) => workingIntervalMs(ms)), [333, 1666, 10_000, 10_000, 100]);
  });
});
