/** Errors of the admission server, each with a stable code and a message saying what was expected and got. */

export type BadReviewCode =
  | 'body-too-large'
  | 'body-unreadable'
  | 'malformed-json'
  | 'not-a-review'
  | 'wrong-review-version'
  | 'missing-request'
  | 'missing-uid'
  | 'wrong-kind-for-path'
  | 'object-not-a-map'
  | 'unknown-operation';

/**
 * An AdmissionReview the server cannot judge. With `uid` the server answers with a denial in a
 * well-formed AdmissionReview; without it, with HTTP `httpStatus` and a Status body.
 */
export class BadReviewError extends Error {
  override readonly name = 'BadReviewError';
  constructor(
    readonly code: BadReviewCode,
    message: string,
    readonly uid?: string,
    readonly httpStatus = 400,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A rule threw instead of returning field errors: a bug in the rule, reported as an internal error. */
export class RuleCrashError extends Error {
  override readonly name = 'RuleCrashError';
  readonly code = 'rule-crashed';
  constructor(readonly kind: string, readonly mode: 'validate' | 'mutate', options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`internal error: the ${kind} ${mode === 'validate' ? 'validation' : 'defaulting'} rules failed (${reason})`, options);
  }
}

/** The TLS certificate or key could not be read or do not form a pair. */
export class TlsLoadError extends Error {
  override readonly name = 'TlsLoadError';
  readonly code = 'tls-load-failed';
  constructor(readonly certFile: string, readonly keyFile: string, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`cannot load the serving certificate ${certFile} with key ${keyFile}: ${reason}`, options);
  }
}
