/**
 * What Proxmox VE answers when a call fails, and what that means for the agent.
 *
 * PVE reports a failure in the HTTP status line: `500 VM 100 is locked (clone)`, with a body of
 * `{"data":null}` (newer releases add `"message"`). Parameter verification failures are
 * `400 Parameter verification failed.` with `{"errors":{"<param>":"<why>"}}`. A long operation's
 * failure arrives later, as the task's `exitstatus` (e.g. `can't lock file
 * '/var/lock/qemu-server/lock-100.conf' - got timeout`).
 */
import { AgentError, isAbort, PermanentError, TransientError } from '../core/errors.ts';

/** A non-2xx answer of the PVE API (or a task that ended with an error). */
export class PveApiError extends Error {
  override readonly name = 'PveApiError';
  constructor(
    /** HTTP status; 0 for a failed task. */
    readonly status: number,
    /** PVE's message (reason phrase, body message or task exit status), without trailing newline. */
    readonly pveMessage: string,
    /** What was called, e.g. "POST /nodes/pve1/qemu" or "task qmclone". */
    readonly call: string,
    /** Per-parameter errors of a 400. */
    readonly errors: Readonly<Record<string, string>> = {},
  ) {
    super(`${call} failed: ${status ? `${status} ` : ''}${pveMessage}${formatErrors(errors)}`);
  }
}

/** The API could not be reached or answered something that is not the PVE API's JSON. */
export class PveTransportError extends Error {
  override readonly name = 'PveTransportError';
  constructor(message: string, readonly call: string, options?: { cause?: unknown }) {
    super(`${call} failed: ${message}`, options);
  }
}

function formatErrors(errors: Readonly<Record<string, string>>): string {
  const keys = Object.keys(errors);
  return keys.length ? ` (${keys.map((k) => `${k}: ${errors[k]}`).join('; ')})` : '';
}

/** A per-VM config lock ("VM 100 is locked (clone)") or a lock file timeout ("can't lock file … - got timeout"): worth retrying shortly. */
export function isLockError(err: unknown): boolean {
  return err instanceof PveApiError && /\bis locked\b|can't lock file|can't acquire lock/i.test(err.pveMessage);
}

/** The VMID is taken (create or clone of an id another VM holds). */
export function isVmidTaken(err: unknown): boolean {
  return err instanceof PveApiError && /already exists/i.test(err.pveMessage);
}

/** PVE has no such VM (on that node): "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist". */
export function isNoSuchVm(err: unknown): boolean {
  return err instanceof PveApiError && /Configuration file '[^']*qemu-server\/\d+\.conf' does not exist|\bVM \d+ does not exist\b/i.test(err.pveMessage);
}

/** Failures that a retry of the same request cannot fix. */
const PERMANENT_MESSAGES = [
  /storage '[^']*' does not exist/i,
  /does not support (vm images|content type)/i,
  /no such cluster node/i,
  /feature is not supported/i,
  /not allowed for linked clones/i,
  /can't clone VM to node/i,
  /shrinking disks is not supported/i,
  /snapshot '[^']*' does not exist/i,
];

/**
 * The agent error for a failed call: 400 and known impossible requests are permanent (the spec must
 * change); locks, 5xx and transport failures are transient (retried); 401/403 are transient too,
 * because an administrator fixes credentials or privileges without the VM's spec changing.
 */
export function toAgentError(err: unknown, doing: string): Error {
  // Our own errors, and the abort reason of a stopping agent or a lost lease, pass unchanged.
  if (err instanceof AgentError || isAbort(err)) return err as Error;
  if (err instanceof PveTransportError) {
    return new TransientError(`${doing}: ${err.message}`, { reason: 'ProviderUnreachable', cause: err });
  }
  if (err instanceof PveApiError) {
    if (err.status === 400 || PERMANENT_MESSAGES.some((re) => re.test(err.pveMessage))) {
      return new PermanentError(`${doing}: Proxmox refused it: ${err.message}`, { reason: 'ProviderRejected', cause: err });
    }
    if (err.status === 401) {
      return new TransientError(`${doing}: Proxmox refused the credentials (${err.pveMessage}); check the Provider's credential Secret`, { reason: 'AuthenticationFailed', cause: err });
    }
    if (err.status === 403) {
      return new TransientError(`${doing}: the Proxmox user or token lacks a privilege (${err.pveMessage}); grant it in Datacenter → Permissions`, { reason: 'PermissionDenied', cause: err });
    }
    if (isLockError(err)) return new TransientError(`${doing}: ${err.message}`, { reason: 'VMLocked', cause: err });
    return new TransientError(`${doing}: ${err.message}`, { reason: 'ProviderError', cause: err });
  }
  return new TransientError(`${doing}: ${err instanceof Error ? err.message : String(err)}`, { reason: 'ProviderError', cause: err });
}
