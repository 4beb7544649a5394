/**
 * The leader's memory of the last command it published per VM uid. It is ahead of the informer
 * cache (which sees our status write only later), so a reconcile right after a publish does not
 * publish again, and status events are matched against the newest command. Cleared when the
 * replica loses the lease; status.lastCommand is the durable record, and once the cache shows
 * that record the entry is dropped (settle), so the ledger holds only VMs with a command in flight.
 */
import type { LastCommand } from '../status/model.ts';

function sameRecord(a: LastCommand, b: LastCommand): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as Array<keyof LastCommand>);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

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

  /**
   * The informer cache shows `cached` as the VM's status.lastCommand: a ledger record it equals or
   * supersedes adds nothing (newestCommand would pick the same), so it is forgotten.
   */
  settle(uid: string, cached: LastCommand | undefined): void {
    const record = this.byUid.get(uid);
    if (!record || !cached) return;
    if (cached.sequence > record.sequence || (cached.sequence === record.sequence && sameRecord(cached, record))) this.delete(uid);
  }

  /** Records held (VMs with a command the cache does not show yet). */
  get size(): number {
    return this.byUid.size;
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
