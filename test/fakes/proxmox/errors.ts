/** A failure the fake answers as PVE would: HTTP status, message (reason phrase), per-parameter errors. */
export class PveError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: Record<string, string>) {
    super(message);
  }
}

/** PVE's `die "…\n"` in a handler: 500 with the message. */
export const fail = (message: string): PveError => new PveError(500, message);
