/**
 * Waiting for vSphere tasks without polling: the task's `info` is read once (a fast task is often
 * done by then); otherwise a filter on the inventory's property collector delivers every change of
 * `info` (state, progress) on the shared long poll, and progress goes to the operation context.
 */
import type { OperationContext } from '../../core/driver.ts';
import type { MoRef, VimClient } from '../soap/client.ts';
import { faultFromTaskError, isFault, VimFault } from '../soap/faults.ts';
import { child, textOf, type XmlInObject, type XmlNode } from '../soap/xml.ts';
import type { VmInventory } from './inventory.ts';
import { int, retrieveOne } from './property.ts';

export interface TaskOutcome {
  /** `info.result` (e.g. the new VM's reference after a clone). */
  result: XmlNode | undefined;
}

type Progress = Pick<OperationContext, 'signal' | 'progress'>;

interface TaskState {
  state: string;
  progress: number | undefined;
  error: XmlNode | undefined;
  result: XmlNode | undefined;
}

function decodeInfo(info: XmlNode | undefined): TaskState {
  return {
    state: textOf(child(info, 'state')) ?? 'queued',
    progress: int(child(info, 'progress')),
    error: child(info, 'error'),
    result: child(info, 'result'),
  };
}

export class TaskWaiter {
  /** Tasks whose end arrived through the property collector (not the first read). */
  pushed = 0;

  constructor(private readonly client: VimClient, private readonly inventory: VmInventory) {}

  /** Runs a method that returns a task (`…_Task`) and waits for the task's end. */
  async run(method: string, body: XmlInObject, what: string, ctx: Progress): Promise<TaskOutcome> {
    const [taskNode] = await this.client.call(method, body, { signal: ctx.signal });
    const task = { type: 'Task', value: textOf(taskNode) ?? '' };
    if (!task.value) throw new VimFault('MalformedReply', `${method} returned no task`, method);
    return this.wait(task, what, ctx);
  }

  async wait(task: MoRef, what: string, ctx: Progress): Promise<TaskOutcome> {
    const read = async () => decodeInfo((await retrieveOne(this.client, task, ['info'], { signal: ctx.signal })).get('info'));
    let first: TaskState;
    try {
      first = await read();
    } catch (err) {
      // Tasks outlive sessions but vCenter forgets finished ones after a while.
      if (isFault(err, 'ManagedObjectNotFound')) throw new VimFault('TaskVanished', `task ${task.value} of ${what} is no longer known to vCenter`, what);
      throw err;
    }
    const done = this.outcome(first, what, ctx);
    if (done) return done;

    return new Promise<TaskOutcome>((resolve, reject) => {
      let stop: (() => Promise<void>) | undefined;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        ctx.signal.removeEventListener('abort', onAbort);
        void stop?.();
        fn();
      };
      const onState = (s: TaskState) => {
        try {
          const out = this.outcome(s, what, ctx);
          if (out) finish(() => resolve(out));
        } catch (err) {
          finish(() => reject(err));
        }
      };
      const onAbort = () => finish(() => reject(ctx.signal.reason));
      ctx.signal.addEventListener('abort', onAbort, { once: true });

      const subscribe = async (): Promise<void> => {
        stop = await this.inventory.watchObject(task, ['info'], {
          onChange: (_kind, changes) => {
            const info = changes.find((c) => c.name === 'info');
            if (info?.val === undefined) return;
            this.pushed++;
            onState(decodeInfo(info.val));
          },
          // The collector was made again (new session): subscribe again.
          onLost: () => void subscribe().catch((err) => finish(() => reject(err))),
        });
        if (settled) {
          void stop();
          return;
        }
        // The task may have ended between the first read and the filter: read once more.
        onState(await read());
      };
      subscribe().catch((err) => finish(() => reject(err)));
    });
  }

  /** The outcome of an ended task (a fault throws); undefined while it runs. */
  private outcome(s: TaskState, what: string, ctx: Progress): TaskOutcome | undefined {
    if (s.state === 'success') {
      ctx.progress(100, `${what}: done`);
      return { result: s.result };
    }
    if (s.state === 'error') {
      if (s.error === undefined) throw new VimFault('UnknownFault', 'the task failed without saying why', what);
      throw faultFromTaskError(s.error, what);
    }
    if (s.progress !== undefined) ctx.progress(s.progress, `${what}: ${s.progress}%`);
    return undefined;
  }
}

