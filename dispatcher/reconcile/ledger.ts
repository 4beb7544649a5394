/**
 * The leader's memory of the last command it published per VM uid. It is ahead of the informer
 * cache (which sees our status write only later), so a reconcile right after a publish does not
 * publish again, and status events are matched against the newest command. Cleared when the
 * replica loses the lease; status.lastCommand is the durable record.
 */
import type { LastCommand } from '../status/model.ts';

export class CommandLedger {
  private readonly byUid = new Map<string, LastCommand>();
  private readonly uidBySeq = new Map<number, string>();

  get(uid: string): LastCommand | undefined {
    return this.byUid.get(uid);
  }

  set(uid: string, record: LastCommand): void {
    const old = this.byUid.get(uid);
    if (old?.streamSequence !== undefined) this.uidBySeq.delete(old.streamSequence);
    this.byUid.set(uid, record);
    if (record.streamSequence !== undefined) this.uidBySeq.set(record.streamSequence, uid);
  }

  /** Forgets a record, or restores the one it replaced (a publish that failed). */
  restore(uid: string, previous: LastCommand | undefined): void {
    if (previous) this.set(uid, previous);
    else this.delete(uid);
  }

  delete(uid: string): void {
    const old = this.byUid.get(uid);
    if (old?.streamSequence !== undefined) this.uidBySeq.delete(old.streamSequence);
    this.byUid.delete(uid);
  }

  /** The VM uid whose last command has this VR_COMMANDS stream sequence. */
  uidOfStreamSequence(seq: number): string | undefined {
    return this.uidBySeq.get(seq);
  }

  clear(): void {
    this.byUid.clear();
    this.uidBySeq.clear();
  }
}
