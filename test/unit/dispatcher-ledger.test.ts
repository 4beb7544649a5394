/** The command ledger holds only VMs whose last command the informer cache does not show yet. */
import { strict as assert } from 'node:assert';
import { CommandLedger } from '../../dispatcher/reconcile/ledger.ts';
import { newestCommand, type LastCommand } from '../../dispatcher/status/model.ts';

const record = (sequence: number, extra: Partial<LastCommand> = {}): LastCommand => ({
  id: `u1-r1-g1-${sequence}`, sequence, operation: 'Reconcile', desiredHash: 'h', publishedAt: '2026-11-26T00:00:00Z', streamSequence: 100 + sequence, ...extra,
} as LastCommand);

describe('dispatcher command ledger', () => {
  it('forgets a record once the cache shows it, and keeps one the cache is behind on', () => {
    const ledger = new CommandLedger();
    ledger.set('u1', record(2));
    ledger.settle('u1', record(1));
    assert.equal(ledger.get('u1')?.sequence, 2, 'the cache is behind: the ledger still answers');
    assert.equal(newestCommand(record(1), ledger.get('u1'))?.sequence, 2);
    ledger.settle('u1', record(2));
    assert.equal(ledger.get('u1'), undefined);
    assert.equal(ledger.uidOfStreamSequence(102), undefined);
    assert.equal(ledger.size, 0);
  });

  it('keeps a record of the same command that knows more than the cache (delivery exhausted)', () => {
    const ledger = new CommandLedger();
    ledger.set('u1', record(3, { deliveryExhaustedAt: '2026-11-26T00:01:00Z' } as Partial<LastCommand>));
    ledger.settle('u1', record(3));
    assert.ok(ledger.get('u1'), 'not the same record');
    ledger.settle('u1', record(4));
    assert.equal(ledger.get('u1'), undefined, 'a newer command in the cache supersedes it');
  });
});
