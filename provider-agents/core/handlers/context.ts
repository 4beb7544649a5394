/**
 * What a command handler gets: the decoded command, the driver, the operation context for driver
 * calls, and a way to report its result. Handlers return 'done' or 'stale' or throw; the runtime
 * turns that into an ack (ack-policy.ts) and reports failures.
 */
import type { HandlerResult } from '../ack-policy.ts';
import type { DecodedCommand } from '../decode.ts';
import type { Driver, OperationContext } from '../driver.ts';
import type { Lease } from '../lease.ts';
import type { Logger } from '../log.ts';
import type { EventBody } from '../status.ts';

export interface CommandContext {
  cmd: DecodedCommand;
  driver: Driver;
  /** Passed to every driver call: abort signal (shutdown, lost lease), progress, generation. */
  op: OperationContext;
  lease: Lease;
  log: Logger;
  /** Publishes the command's result event; resolves once the stream stored it. */
  report(body: EventBody): Promise<void>;
  /** The VM is gone: the lease leaves a tombstone so a stale reconcile cannot bring it back. */
  markDeleted(): void;
}

export type CommandHandler = (c: CommandContext) => Promise<HandlerResult>;

/** Throws the abort reason (ShutdownError, LeaseLostError) between steps. */
export function checkpoint(c: CommandContext): void {
  c.op.signal.throwIfAborted();
}
