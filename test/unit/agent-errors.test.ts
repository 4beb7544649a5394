/** Every agent error has a stable code, and every code is documented (provider-agents/README.md). */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import {
  AGENT_ERROR_CODES, InvalidCommandError, LeaseBusyError, LeaseLostError, NotSupportedError, PermanentError, ShutdownError,
  StillPresentError, TransientError,
} from '../../provider-agents/core/errors.ts';

const README = readFileSync(new URL('../../provider-agents/README.md', import.meta.url), 'utf8');

describe('agent errors', () => {
  const samples = [
    new TransientError('x'), new PermanentError('x'), new NotSupportedError('op', 'mock'), new InvalidCommandError('x', 'invalid'),
    new LeaseBusyError('u', 'h'), new LeaseLostError('u'), new ShutdownError(), new StillPresentError('u'),
  ];

  it('gives every error class its own listed code', () => {
    assert.deepEqual(samples.map((e) => e.code).sort(), [...AGENT_ERROR_CODES].sort());
  });

  for (const code of AGENT_ERROR_CODES) {
    it(`documents the code ${code}`, () => assert.ok(README.includes(`| \`${code}\` |`), `README has no row for ${code}`));
  }

  it('says what was expected and what was got', () => {
    assert.equal(new StillPresentError('u1').message, 'expected VM u1 to be gone after delete, but the hypervisor still has it');
    assert.equal(new LeaseBusyError('u1', 'agent-2').message, 'VM u1 is being worked on by agent-2; expected its lease to be free');
  });
});
