/**
 * The dispatcher's errors: small named classes with a stable code, a cause, and a message saying
 * what was expected and what was got. Retry decisions are typed (RequeueError, TerminalError);
 * reconcile/retry-policy.ts turns them into work-queue actions in one place.
 */

export class DispatcherError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Try again after this long (not a failure: e.g. waiting for a redispatch window). */
export class RequeueError extends DispatcherError {
  constructor(readonly afterMs: number, message: string, options?: { cause?: unknown }) {
    super('ERR_REQUEUE', message, options);
  }
}

/** Retrying cannot help until the object changes (its next change enqueues it again). */
export class TerminalError extends DispatcherError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TERMINAL', message, options);
  }
}

/** A status write gave up after repeated 409 conflicts. */
export class StatusConflictError extends DispatcherError {
  constructor(readonly key: string, readonly attempts: number) {
    super('ERR_STATUS_CONFLICT', `status of ${key}: still conflicting after ${attempts} attempts (re-read and re-applied each time)`);
  }
}

/** The bus refused or did not acknowledge a command. */
export class PublishError extends DispatcherError {
  constructor(readonly subject: string, options?: { cause?: unknown }) {
    super('ERR_PUBLISH', `publishing a command on ${subject}: expected a JetStream acknowledgement, got an error`, options);
  }
}

/** The replica lost the lease while working: the effect was not applied. */
export class NotLeaderError extends DispatcherError {
  constructor(what: string) {
    super('ERR_NOT_LEADER', `${what}: this replica is no longer the leader`);
  }
}

/** The HTTP status of a client-node ApiException (or anything carrying `code`/`statusCode`). */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isConflict = (err: unknown): boolean => httpStatusOf(err) === 409;
export const isNotFound = (err: unknown): boolean => httpStatusOf(err) === 404;
