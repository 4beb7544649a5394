/**
 * The PVE calls the driver makes on VMs, with what every one of them needs: answers checked
 * (parse.ts), calls refused by a VM lock retried (retry.ts), long calls followed to their task's end
 * (tasks.ts), and where each VM is (its node), found by uid (identity.ts) or by VMID.
 */
import type { ObservedVM, SnapshotInfo } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { OperationContext } from '../core/driver.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { PveClient } from './client.ts';
import { isNoSuchVm, PveApiError } from './errors.ts';
import { candidateVmids, identityOf, joinTags, uidInDescription, uidTag, type VmidRange } from './identity.ts';
import { observed, snapshotInfo } from './observe.ts';
import {
  parseAgentAddresses, parseConfig, parseResources, parseSnapshots, parseUpid, parseVmStatus, splitTags,
  type Resources, type VmResource, type VmStatus,
} from './parse.ts';
import { retryOnLock, type LockRetryOptions } from './retry.ts';
import { waitForTask, type TaskWaitOptions } from './tasks.ts';

/** Where a VM is: its VMID and node, and the uid it was found under. */
export interface Location {
  vmid: number;
  node: string;
  uid: string | undefined;
}

export const vmPath = (node: string, vmid: number) => `/nodes/${encodeURIComponent(node)}/qemu/${vmid}`;

/** Tag lists compared as sets: PVE may keep them in another order. */
export function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(';') === [...b].sort().join(';');
}

export class PveVms {
  /** VMs this agent found or made: a later call on an ObservedVM needs its node. */
  readonly located = new Map<number, Location>();

  constructor(
    readonly client: PveClient,
    private readonly log: Logger,
    readonly range: VmidRange,
    readonly taskWait: TaskWaitOptions,
    private readonly lockRetry: Pick<LockRetryOptions, 'budgetMs' | 'baseMs' | 'capMs'>,
  ) {}

  retryOpts(what: string, signal?: AbortSignal): LockRetryOptions {
    return {
      ...this.lockRetry,
      signal,
      onRetry: (err, attempt, delayMs) => this.log.debug('proxmox VM locked; retrying', { what, attempt, delayMs, err }),
    };
  }

  /** A long call and its task, retried while the VM is locked (the call's refusal or the task's failure). */
  async task(what: string, ctx: OperationContext | undefined, start: () => Promise<unknown>, call: string): Promise<void> {
    await retryOnLock(async () => {
      const upid = parseUpid(await start(), call);
      if (upid) await waitForTask(this.client, upid, what, ctx, this.taskWait);
    }, this.retryOpts(what, ctx?.signal));
  }

  /** A synchronous call, retried while the VM is locked. */
  sync<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return retryOnLock(fn, this.retryOpts(what, signal));
  }

  async resources(type: 'vm' | undefined, signal?: AbortSignal): Promise<Resources> {
    return parseResources(await this.client.get('/cluster/resources', type ? { type } : undefined, signal));
  }

  async config(loc: Location, signal?: AbortSignal): Promise<Record<string, string>> {
    const path = `${vmPath(loc.node, loc.vmid)}/config`;
    return parseConfig(await this.client.get(path, undefined, signal), `GET ${path}`);
  }

  async status(loc: Location, signal?: AbortSignal): Promise<VmStatus> {
    const path = `${vmPath(loc.node, loc.vmid)}/status/current`;
    return parseVmStatus(await this.client.get(path, undefined, signal), `GET ${path}`);
  }

  async snapshots(loc: Location, signal?: AbortSignal): Promise<SnapshotInfo[]> {
    const path = `${vmPath(loc.node, loc.vmid)}/snapshot`;
    return parseSnapshots(await this.client.get(path, undefined, signal), `GET ${path}`).map(snapshotInfo);
  }

  /** The guest's addresses; none while its agent does not answer (not an error: the VM may be booting). */
  async ips(loc: Location, signal?: AbortSignal): Promise<string[]> {
    const path = `${vmPath(loc.node, loc.vmid)}/agent/network-get-interfaces`;
    try {
      return parseAgentAddresses(await this.client.get(path, undefined, signal), `GET ${path}`);
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      this.log.debug('guest agent addresses unavailable', { vmid: loc.vmid, err });
      return [];
    }
  }

  /**
   * The VM a uid names: tagged with it, or (a clone whose tags are not written yet) at one of its
   * candidate VMIDs with it in the description. A candidate VMID that a create or clone still
   * holds, untagged, may be ours: throws a TransientError rather than answer "absent".
   */
  async locate(uid: string, vms: VmResource[], signal?: AbortSignal): Promise<{ vm: VmResource; loc: Location } | undefined> {
    const tag = uidTag(uid);
    const tagged = vms.filter((v) => v.tags.includes(tag)).sort((a, b) => a.vmid - b.vmid);
    if (tagged.length > 1) this.log.warn('several Proxmox VMs carry one uid; using the lowest VMID', { uid, vmids: tagged.map((v) => v.vmid) });
    let found = tagged[0];
    if (!found) {
      const byId = new Map(vms.map((v) => [v.vmid, v]));
      for (const id of candidateVmids(uid, this.range)) {
        const v = byId.get(id);
        if (!v || identityOf(v.tags).uid) continue;
        // Only a create or clone leaves a VM untagged under these locks (a backup or migration lock does not).
        if (v.lock === 'create' || v.lock === 'clone') {
          throw new TransientError(`VMID ${id} on node ${v.node}, where VM ${uid} would be created, is being set up by a running task (lock ${v.lock}); `
            + 'waiting for it to finish to know whether it is this VM', { reason: 'ProvisioningInFlight', retryAfterMs: 2000 });
        }
        const config = await this.config({ vmid: id, node: v.node, uid: undefined }, signal);
        if (uidInDescription(config.description ?? '') === uid) {
          found = v;
          break;
        }
      }
    }
    if (!found) return undefined;
    const loc = { vmid: found.vmid, node: found.node, uid };
    this.located.set(found.vmid, loc);
    return { vm: found, loc };
  }

  /** Where an observed VM is now (it may have migrated since it was observed). */
  async where(vm: ObservedVM, signal?: AbortSignal, fresh = false): Promise<Location | undefined> {
    const vmid = Number(vm.id);
    if (!Number.isInteger(vmid) || vmid <= 0) throw new PermanentError(`expected a Proxmox VMID as the VM's id, got ${JSON.stringify(vm.id)}`, { reason: 'InvalidVMId' });
    const known = this.located.get(vmid);
    if (known && !fresh) return known;
    const r = (await this.resources('vm', signal)).vms.find((v) => v.vmid === vmid);
    if (!r) {
      this.located.delete(vmid);
      return undefined;
    }
    const loc = { vmid, node: r.node, uid: known?.uid ?? identityOf(r.tags).uid };
    this.located.set(vmid, loc);
    return loc;
  }

  /** Runs `fn` on the VM's location; once more on its new node if PVE says it is not on the old one. */
  async onVm<T>(vm: ObservedVM, signal: AbortSignal | undefined, fn: (loc: Location) => Promise<T>): Promise<T> {
    const loc = await this.where(vm, signal);
    if (!loc) throw new TransientError(`expected VM ${vm.id} on Proxmox, it is gone`, { reason: 'VMVanished' });
    try {
      return await fn(loc);
    } catch (err) {
      if (!isNoSuchVm(err)) throw err;
      const moved = await this.where(vm, signal, true);
      if (!moved) throw new TransientError(`expected VM ${vm.id} on Proxmox, it is gone`, { reason: 'VMVanished', cause: err });
      if (moved.node === loc.node) throw err;
      return fn(moved);
    }
  }

  /** The ObservedVM of a located VM, from its current status (snapshots as given). */
  async refresh(loc: Location, snapshots: SnapshotInfo[] | undefined, signal?: AbortSignal): Promise<ObservedVM> {
    const st = await this.status(loc, signal);
    return observed(this.client.origin, {
      vmid: loc.vmid, node: loc.node, name: st.name, running: st.status === 'running', cpus: st.cpus, maxmemBytes: st.maxmem,
      generation: identityOf(st.tags).generation,
      ips: st.status === 'running' ? await this.ips(loc, signal) : [],
      snapshots: snapshots ?? (await this.snapshots(loc, signal)),
    });
  }

  /** Rewrites the VM's tags (read, change, write with the config digest; again if it changed meanwhile). */
  async writeTags(loc: Location, change: (tags: string[]) => string[], signal?: AbortSignal, extra: (config: Record<string, string>) => Record<string, string> = () => ({})): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const config = await this.config(loc, signal);
      const next = change(splitTags(config.tags));
      const tags = joinTags(next);
      const more = extra(config);
      if (sameTags(next, splitTags(config.tags)) && Object.keys(more).length === 0) return;
      try {
        const path = `${vmPath(loc.node, loc.vmid)}/config`;
        await this.sync(`tags of VM ${loc.vmid}`, signal, () => this.client.put(path, { tags, ...more, digest: config.digest }, signal));
        return;
      } catch (err) {
        if (attempt < 3 && err instanceof PveApiError && /digest|file changed/i.test(err.pveMessage)) continue;
        throw err;
      }
    }
  }
}
