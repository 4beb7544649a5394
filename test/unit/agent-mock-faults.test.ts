/** The mock hypervisor's fault rules: which call fails, and how. */
import { strict as assert } from 'node:assert';
import { PermanentError, TransientError } from '../../provider-agents/core/errors.ts';
import { FaultPlan } from '../../provider-agents/mock/faults.ts';

function outcomes(plan: FaultPlan, op: 'find' | 'create', n: number, uid?: string): string[] {
  return Array.from({ length: n }, () => {
    try {
      plan.check(op, uid, 'before');
      return 'ok';
    } catch (err) {
      return err instanceof PermanentError ? 'permanent' : err instanceof TransientError ? 'transient' : 'other';
    }
  });
}

describe('mock hypervisor faults', () => {
  it('fails the Nth create once (after: N-1)', () => {
    assert.deepEqual(outcomes(new FaultPlan([{ op: 'create', after: 2 }]), 'create', 5), ['ok', 'ok', 'transient', 'ok', 'ok']);
  });

  it('fails a number of times in a row, or for ever', () => {
    assert.deepEqual(outcomes(new FaultPlan([{ op: 'find', times: 2 }]), 'find', 4), ['transient', 'transient', 'ok', 'ok']);
    assert.deepEqual(outcomes(new FaultPlan([{ op: 'find', times: -1, kind: 'permanent' }]), 'find', 3), ['permanent', 'permanent', 'permanent']);
  });

  it('fails only the named VM and only the named operation', () => {
    const plan = new FaultPlan([{ op: 'find', uid: 'u1' }]);
    assert.deepEqual(outcomes(plan, 'find', 2, 'u2'), ['ok', 'ok']);
    assert.deepEqual(outcomes(plan, 'create', 1, 'u1'), ['ok']);
    assert.deepEqual(outcomes(plan, 'find', 2, 'u1'), ['transient', 'ok']);
  });

  it('checks "after" rules only once the operation took effect', () => {
    const plan = new FaultPlan([{ op: 'create', when: 'after' }]);
    assert.doesNotThrow(() => plan.check('create', 'u', 'before'));
    assert.throws(() => plan.check('create', 'u', 'after'), TransientError);
  });
});
