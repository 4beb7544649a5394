/**
 * Errors of the agent runtime and its drivers: small named classes with a stable `code`, a `cause`,
 * and a message saying what was expected and what was got. What each one does to the command
 * (ack, nak with a delay, term) is decided in one place: ack-policy.ts.
 *
 * Drivers throw:
 * - `TransientError` when the hypervisor could not be read or written right now (network, lock
 *   timeout, 5xx). The command is retried; the VM is never taken for gone.
 * - `PermanentError` when the desired state cannot be applied as asked (image missing, spec the
 *   hypervisor refuses). Retrying the same command cannot help; a new generation may.
 * - `NotSupportedError` for an operation this hypervisor does not offer.
 */

/** Base class: every error the runtime raises or understands carries a stable code and a reason. */
export abstract class AgentError extends Error {
  abstract readonly code: string;
  /** CamelCase reason for a Kubernetes condition (e.g. "ProviderUnreachable"). */
  readonly reason: string;
  constructor(message: string, reason: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** The hypervisor could not be reached or answered with a temporary failure. Retried with backoff. */
export class TransientError extends AgentError {
  override readonly name = 'TransientError';
  readonly code = 'transient';
  /** Wanted delay before the retry; the runtime's backoff when unset. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { reason?: string; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, opts.reason ?? 'ProviderUnreachable', { cause: opts.cause });
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** The desired state cannot be applied as asked; retrying the same command cannot help. */
export class PermanentError extends AgentError {
  override readonly name = 'PermanentError';
  readonly code = 'permanent';
  constructor(message: string, opts: { reason?: string; cause?: unknown } = {}) {
    super(message, opts.reason ?? 'InvalidSpec', { cause: opts.cause });
  }
}

/** The hypervisor (or this driver) does not offer the operation. */
export class NotSupportedError extends AgentError {
  override readonly name = 'NotSupportedError';
  readonly code = 'not-supported';
  constructor(operation: string, providerType: string) {
    super(`${operation} is not supported by the ${providerType} provider`, 'NotSupported');
  }
}

/** A message on the command subject that is not a command we can act on (malformed, unknown op, wrong subject). */
export class InvalidCommandError extends AgentError {
  override readonly name = 'InvalidCommandError';
  readonly code = 'invalid-command';
  /** Metric label: `malformed`, `unknown_op` or `invalid`. */
  readonly kind: 'malformed' | 'unknown_op' | 'invalid';
  constructor(message: string, kind: 'malformed' | 'unknown_op' | 'invalid', options?: { cause?: unknown }) {
    super(message, 'InvalidCommand', options);
    this.kind = kind;
  }
}

/** Another agent (or another command in this agent) holds the VM's lease. Retried shortly. */
export class LeaseBusyError extends AgentError {
  override readonly name = 'LeaseBusyError';
  readonly code = 'lease-busy';
  constructor(readonly vmUid: string, readonly holder: string) {
    super(`VM ${vmUid} is being worked on by ${holder}; expected its lease to be free`, 'VMBusy');
  }
}

/** This agent lost the VM's lease while working (it expired and someone else took it). */
export class LeaseLostError extends AgentError {
  override readonly name = 'LeaseLostError';
  readonly code = 'lease-lost';
  constructor(readonly vmUid: string, options?: { cause?: unknown }) {
    super(`lost the lease of VM ${vmUid} while working on it`, 'LeaseLost', options);
  }
}

/** The operation was stopped because the agent is shutting down; the command goes back to the queue. */
export class ShutdownError extends AgentError {
  override readonly name = 'ShutdownError';
  readonly code = 'shutdown';
  constructor() {
    super('the agent is shutting down; the command is handed back for redelivery', 'AgentShuttingDown');
  }
}

/** The delete ran but the hypervisor still shows the VM; the command is retried until it is gone. */
export class StillPresentError extends AgentError {
  override readonly name = 'StillPresentError';
  readonly code = 'still-present';
  constructor(readonly vmUid: string) {
    super(`expected VM ${vmUid} to be gone after delete, but the hypervisor still has it`, 'DeletionPending');
  }
}

/** Every code above, for the test that keeps them documented and stable. */
export const AGENT_ERROR_CODES = [
  'transient', 'permanent', 'not-supported', 'invalid-command', 'lease-busy', 'lease-lost', 'shutdown', 'still-present',
] as const;

/** True for an AbortError thrown by an aborted signal (fetch, timers/promises, our drivers). */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}
