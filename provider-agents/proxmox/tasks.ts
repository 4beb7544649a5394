/**
 * Long PVE calls answer with a UPID; the work runs in a task on the VM's node. This waits for a task
 * to stop, reports its progress (the last percentage in its log, as clone and download tasks print
 * "… (42.00%)"), and outlives a restart of the API daemon: the task keeps running on the node, so
 * polling resumes on the same UPID once the API answers again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationContext } from '../core/driver.ts';
import { TransientError } from '../core/errors.ts';
import type { PveClient } from './client.ts';
import { PveApiError, PveTransportError } from './errors.ts';
import { parseTaskLog, parseTaskStatus, upidNode, type TaskStatus } from './parse.ts';

export interface TaskWaitOptions {
  /** First poll interval (ms); grows by half up to maxPollMs. */
  pollMs: number;
  maxPollMs: number;
  /** How long the API may stay unreachable while a task runs before giving up this attempt. */
  unreachableBudgetMs: number;
  /** How often the log is read for progress while the task runs (ms). */
  progressEveryMs: number;
}

export const DEFAULT_TASK_WAIT: TaskWaitOptions = { pollMs: 200, maxPollMs: 2000, unreachableBudgetMs: 120_000, progressEveryMs: 1000 };

const PERCENT_RE = /(\d{1,3}(?:\.\d+)?)\s*%/;

export function taskPath(upid: string): string {
  return `/nodes/${encodeURIComponent(upidNode(upid))}/tasks/${encodeURIComponent(upid)}`;
}

/** True when a stopped task's exit status means success. */
export function taskSucceeded(exitstatus: string | undefined): boolean {
  return exitstatus === 'OK' || /^WARNINGS: \d+$/.test(exitstatus ?? '');
}

/**
 * Waits until the task stops. Resolves on OK (or warnings); throws a PveApiError carrying the exit
 * status when it failed, a TransientError when the API stayed unreachable too long, the abort
 * reason when the operation is aborted (the task itself goes on, and the next attempt sees it).
 */
export async function waitForTask(client: PveClient, upid: string, what: string, ctx: OperationContext | undefined, opts: TaskWaitOptions = DEFAULT_TASK_WAIT): Promise<void> {
  const path = taskPath(upid);
  const call = `task ${what}`;
  let delay = opts.pollMs;
  let unreachableSince: number | undefined;
  let nextLogAt = Date.now() + opts.progressEveryMs;
  let logStart = 0;
  let percent = 0;
  for (;;) {
    let status: TaskStatus | undefined;
    try {
      status = parseTaskStatus(await client.get(`${path}/status`, undefined, ctx?.signal), `GET ${path}/status`);
      unreachableSince = undefined;
    } catch (err) {
      if (ctx?.signal.aborted) throw ctx.signal.reason ?? err;
      // The API daemon restarting (connection refused, 5xx while it comes up) does not stop the task.
      const unreachable = err instanceof PveTransportError || (err instanceof PveApiError && err.status >= 502);
      if (!unreachable) throw err;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > opts.unreachableBudgetMs) {
        throw new TransientError(`lost contact with the Proxmox API while ${what} ran (task ${upid}); the task may still finish, the next attempt picks up its result`,
          { reason: 'ProviderUnreachable', cause: err });
      }
    }
    if (status && !status.running) {
      if (taskSucceeded(status.exitstatus)) {
        ctx?.progress(100, `${what}: done`);
        return;
      }
      throw new PveApiError(0, status.exitstatus || 'the task stopped without an exit status', call);
    }
    if (status && ctx && Date.now() >= nextLogAt) {
      nextLogAt = Date.now() + opts.progressEveryMs;
      try {
        const lines = parseTaskLog(await client.get(`${path}/log`, { start: logStart, limit: 500 }, ctx.signal), `GET ${path}/log`);
        let last = '';
        for (const l of lines) {
          logStart = Math.max(logStart, l.n);
          const m = PERCENT_RE.exec(l.t);
          if (m) percent = Math.min(99, Math.floor(Number(m[1])));
          if (l.t.trim()) last = l.t.trim();
        }
        ctx.progress(percent, `${what}${last ? `: ${last}` : ' running'}`);
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
        // Progress is best effort: a log that cannot be read does not fail the task.
      }
    }
    try {
      await sleep(delay, undefined, ctx ? { signal: ctx.signal } : undefined);
    } catch (err) {
      throw ctx?.signal.reason ?? err;
    }
    delay = Math.min(opts.maxPollMs, Math.ceil(delay * 1.5));
  }
}
