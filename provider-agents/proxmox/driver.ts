/**
 * The Proxmox VE driver: VirtRigaud's Driver over the PVE REST API (client.ts).
 *
 * Identity (identity.ts): the object uid is the tag `vr-uid-<uid>` (and the description line
 * `virtrigaud-uid: <uid>`), the applied generation the tag `vr-gen-<n>`. `find` reads
 * /cluster/resources once for the whole cluster. A new VM takes the first free VMID of its uid's
 * candidate sequence, so a create still running (its tags are written only when its task ends) is
 * found again after an agent restart instead of being made twice.
 *
 * Every call that PVE refuses because the VM is locked (another task holds it) is retried with
 * jittered backoff (retry.ts); long calls are followed through their task (tasks.ts) with progress.
 * Errors leave as TransientError / PermanentError (errors.ts: toAgentError), never as "VM gone".
 */
import { clone } from '@bufbuild/protobuf';
import type { DesiredVM, ObservedVM, SnapshotCreate, SnapshotInfo } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { ObservedVMSchema, PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Credentials } from '../core/connection.ts';
import type { Driver, OperationContext, ReconfigureResult } from '../core/driver.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { PveClient, type PveAuth } from './client.ts';
import { isNoSuchVm, PveApiError, toAgentError } from './errors.ts';
import {
  DEFAULT_VMID_RANGE, describeWithUid, identityOf, joinTags, snapshotDescription, snapshotName, tagsWith,
  uidInDescription, uidTag, withoutUidLine, type VmidRange,
} from './identity.ts';
import { observed } from './observe.ts';
import { parsePending, parseVersion, parseVncProxy, splitTags, type VmStatus } from './parse.ts';
import { parseDrive } from './props.ts';
import { Provisioner } from './provision.ts';
import { DEFAULT_LOCK_RETRY, type LockRetryOptions } from './retry.ts';
import { DEFAULT_TASK_WAIT, type TaskWaitOptions } from './tasks.ts';
import { planConfig, settingOf } from './vm-spec.ts';
import { PveVms, sameTags, vmPath } from './vms.ts';

/** What the Proxmox row of api/capabilities.ts lists. */
export const PROXMOX_CAPABILITIES = [
  'secureBoot', 'tpm', 'nestedVirtualization', 'cpuHotAdd', 'memoryHotAdd', 'gpu', 'memorySnapshots', 'linkedClones', 'onlineDiskExpansion',
];

export interface ProxmoxDriverOptions {
  /** The Provider's spec.endpoint, e.g. https://pve.example:8006. */
  endpoint: string;
  credentials: Credentials;
  insecureSkipVerify: boolean;
  /** VMIDs new VMs take (default 100000–999999). */
  vmidRange?: VmidRange;
  /** Bridge for networks that name none (default vmbr0). */
  bridge?: string;
  taskWait?: Partial<TaskWaitOptions>;
  lockRetry?: Partial<Pick<LockRetryOptions, 'budgetMs' | 'baseMs' | 'capMs'>>;
  /** Sockets to the API (default 16). */
  connections?: number;
  log?: Logger;
}

/** The credential Secret's keys → PVE authentication: an API token, else user and password. */
export function authFrom(credentials: Credentials): PveAuth {
  const tokenId = credentials.get('token_id');
  if (tokenId) return { kind: 'token', tokenId, secret: credentials.require('token_secret', 'the API token named by token_id') };
  const username = credentials.require('username', 'a Proxmox API token (token_id, token_secret) or a user (username, password)');
  return { kind: 'ticket', username, password: credentials.require('password', `the password of ${username}`) };
}

export class ProxmoxDriver implements Driver {
  readonly type = 'proxmox';
  readonly client: PveClient;
  private readonly log: Logger;
  private readonly bridge: string;
  private readonly vms: PveVms;
  private readonly provision: Provisioner;

  constructor(opts: ProxmoxDriverOptions) {
    this.log = opts.log ?? silentLogger;
    this.client = new PveClient({
      endpoint: opts.endpoint,
      auth: authFrom(opts.credentials),
      tls: { ca: opts.credentials.get('ca.crt'), fingerprint: opts.credentials.get('thumbprint'), insecureSkipVerify: opts.insecureSkipVerify },
      connections: opts.connections,
      log: this.log,
    });
    this.bridge = opts.bridge ?? 'vmbr0';
    this.vms = new PveVms(this.client, this.log, opts.vmidRange ?? DEFAULT_VMID_RANGE, { ...DEFAULT_TASK_WAIT, ...opts.taskWait }, { ...DEFAULT_LOCK_RETRY, ...opts.lockRetry });
    this.provision = new Provisioner(this.vms, this.bridge);
  }

  /** Requests sent to the API so far. */
  get requests(): number {
    return this.client.requests;
  }

  /** Runs a Driver method, turning every failure into an agent error that says what was being done. */
  private async guard<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toAgentError(err, doing);
    }
  }

  // --- Driver ---

  async capabilities(): Promise<string[]> {
    return PROXMOX_CAPABILITIES;
  }

  async validate(): Promise<{ version: string }> {
    return this.guard('reading the Proxmox API version', async () => {
      const v = parseVersion(await this.client.get('/version'));
      return { version: `pve-manager/${v.version}` };
    });
  }

  async find(uid: string): Promise<ObservedVM | undefined> {
    return this.guard(`looking up VM ${uid} on Proxmox`, async () => {
      const found = await this.vms.locate(uid, (await this.vms.resources('vm')).vms);
      if (!found) return undefined;
      const { vm, loc } = found;
      const running = vm.status === 'running';
      const [snapshots, ips] = await Promise.all([this.vms.snapshots(loc), running ? this.vms.ips(loc) : Promise.resolve([])]);
      return observed(this.client.origin, {
        vmid: vm.vmid, node: vm.node, name: vm.name, running, cpus: vm.maxcpu, maxmemBytes: vm.maxmem,
        generation: identityOf(vm.tags).generation, ips, snapshots,
      });
    });
  }

  async create(uid: string, desired: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`creating VM ${uid} on Proxmox`, async () => {
      const res = await this.vms.resources(undefined, ctx.signal);
      const existing = await this.vms.locate(uid, res.vms, ctx.signal);
      if (existing) return this.vms.refresh(existing.loc, undefined, ctx.signal);
      const source = desired.image?.source;
      if (source?.case === 'proxmoxTemplate') {
        const t = source.value;
        const template = res.vms.find((v) => (t.templateId ? v.vmid === t.templateId : v.template && v.name === t.templateName && (!t.node || v.node === t.node)));
        if (!template) throw new PermanentError(`template ${t.templateId || t.templateName} not found on the Proxmox cluster`, { reason: 'TemplateNotFound' });
        const node = desired.placement?.node || desired.placement?.host || t.node || template.node;
        const full = t.fullClone || !template.template;
        const loc = await this.provision.cloneInto(uid, template, { node, full, storage: desired.placement?.datastore || t.storage, desired, res, ctx });
        return this.vms.refresh(loc, [], ctx.signal);
      }
      const { loc, name } = await this.provision.createFresh(uid, desired, res, ctx);
      if (!loc.made) return this.vms.refresh(loc, undefined, ctx.signal);
      // Just made from our own parameters: stopped, no snapshots, as sized (saves a status read).
      const cls = desired.class;
      return observed(this.client.origin, {
        vmid: loc.vmid, node: loc.node, name, running: false, cpus: cls?.cpus || 1, maxmemBytes: Number(cls?.memoryMib || 512n) * 1024 * 1024,
        generation: ctx.generation ?? 0n, ips: [], snapshots: [],
      });
    });
  }

  async reconfigure(vm: ObservedVM, desired: DesiredVM, ctx: OperationContext): Promise<ReconfigureResult> {
    return this.guard(`reconfiguring VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      let changed = false;
      for (let attempt = 0; ; attempt++) {
        const config = await this.vms.config(loc, ctx.signal);
        const bootVolume = parseDrive(config.scsi0 ?? config.virtio0 ?? config.sata0 ?? '').volume;
        const storage = desired.placement?.datastore || bootVolume.split(':')[0] || 'local-lvm';
        const plan = planConfig(desired, config, { bridge: this.bridge, storage });
        const current = splitTags(config.tags);
        const tags = tagsWith(current, loc.uid, identityOf(current).generation, desired.tags);
        if (loc.uid && !sameTags(tags, current)) plan.set.tags = joinTags(tags);
        if (loc.uid && !uidInDescription(config.description ?? '')) plan.set.description = describeWithUid(config.description ?? '', loc.uid);
        if (plan.hostname && config.name !== plan.hostname) plan.set.name = plan.hostname;
        if (Object.keys(plan.set).length || plan.delete.length) {
          const path = `${vmPath(loc.node, loc.vmid)}/config`;
          try {
            // POST (not PUT): hot-plugged changes and new disks run as a task.
            await this.vms.task(`reconfiguration of VM ${loc.vmid}`, ctx, () => this.client.post(path, {
              ...plan.set, ...(plan.delete.length ? { delete: plan.delete.join(',') } : {}), digest: config.digest,
            }, ctx.signal), `POST ${path}`);
          } catch (err) {
            if (attempt < 3 && err instanceof PveApiError && /digest|file changed/i.test(err.pveMessage)) continue;
            throw err;
          }
          changed = true;
        }
        for (const g of plan.grow) {
          const path = `${vmPath(loc.node, loc.vmid)}/resize`;
          await this.vms.task(`growing disk ${g.key} of VM ${loc.vmid} to ${g.sizeGiB} GiB`, ctx, () => this.client.put(path, { disk: g.key, size: `${g.sizeGiB}G` }, ctx.signal), `PUT ${path}`);
          changed = true;
        }
        break;
      }
      if (!changed) return { vm, restartRequired: [] };
      let restartRequired: string[] = [];
      if (vm.powerState === PowerState.ON) {
        const path = `${vmPath(loc.node, loc.vmid)}/pending`;
        const pending = parsePending(await this.client.get(path, undefined, ctx.signal), `GET ${path}`);
        restartRequired = [...new Set(pending.filter((p) => p.pending !== undefined || p.delete).map((p) => settingOf(p.key)))];
      }
      return { vm: await this.vms.refresh(loc, vm.snapshots, ctx.signal), restartRequired };
    }));
  }

  async setPower(vm: ObservedVM, state: PowerState, gracefulTimeoutSeconds: number, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`changing the power of VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      const st = await this.vms.status(loc, ctx.signal);
      const running = st.status === 'running';
      const base = vmPath(loc.node, loc.vmid);
      const run = (op: string, params: Record<string, string | number> = {}) =>
        this.vms.task(`${op} of VM ${loc.vmid}`, ctx, () => this.client.post(`${base}/status/${op}`, params, ctx.signal), `POST ${base}/status/${op}`);
      if (state === PowerState.ON && !running) await run('start');
      else if (state === PowerState.OFF && running) await run('stop');
      else if (state === PowerState.OFF_GRACEFUL && running) {
        const timeout = gracefulTimeoutSeconds > 0 ? gracefulTimeoutSeconds : 60;
        try {
          await run('shutdown', { timeout });
        } catch (err) {
          if (!(err instanceof PveApiError)) throw err;
          this.log.info('graceful shutdown did not finish; stopping', { vmid: loc.vmid, reason: err.pveMessage });
        }
        if ((await this.vms.status(loc, ctx.signal)).status === 'running') await run('stop');
      }
      return this.vms.refresh(loc, vm.snapshots, ctx.signal);
    }));
  }

  /** Reboots a running VM (applies pending changes). Not a Driver verb: the bus has no reboot command. */
  async reboot(vm: ObservedVM, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`rebooting VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      const path = `${vmPath(loc.node, loc.vmid)}/status/reboot`;
      await this.vms.task(`reboot of VM ${loc.vmid}`, ctx, () => this.client.post(path, {}, ctx.signal), `POST ${path}`);
      return this.vms.refresh(loc, vm.snapshots, ctx.signal);
    }));
  }

  async destroy(vm: ObservedVM, ctx: OperationContext): Promise<void> {
    await this.guard(`deleting VM ${vm.id} on Proxmox`, async () => {
      const loc = await this.vms.where(vm, ctx.signal);
      if (!loc) return;
      for (let attempt = 0; ; attempt++) {
        let st: VmStatus;
        try {
          st = await this.vms.status(loc, ctx.signal);
        } catch (err) {
          if (isNoSuchVm(err) && !(await this.vms.where(vm, ctx.signal, true))) return;
          throw err;
        }
        // The VMID may have been reused since we observed it: destroy only a VM that still is ours.
        if (loc.uid && !st.tags.includes(uidTag(loc.uid)) && uidInDescription((await this.vms.config(loc, ctx.signal)).description ?? '') !== loc.uid) {
          this.log.warn('VM no longer carries our uid; not deleting it', { vmid: loc.vmid, uid: loc.uid });
          return;
        }
        const base = vmPath(loc.node, loc.vmid);
        if (st.status === 'running') await this.vms.task(`stop of VM ${loc.vmid}`, ctx, () => this.client.post(`${base}/status/stop`, {}, ctx.signal), `POST ${base}/status/stop`);
        try {
          await this.vms.task(`deletion of VM ${loc.vmid}`, ctx, () => this.client.delete(base, { purge: 1, 'destroy-unreferenced-disks': 1 }, ctx.signal), `DELETE ${base}`);
        } catch (err) {
          // Started again between our stop and the delete: stop and delete once more.
          if (attempt < 3 && err instanceof PveApiError && /\brunning\b/i.test(err.pveMessage)) continue;
          if (isNoSuchVm(err)) break;
          throw err;
        }
        break;
      }
      this.vms.located.delete(loc.vmid);
    });
  }

  async adopt(uid: string, hypervisorId: string, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`adopting Proxmox VM ${hypervisorId} as ${uid}`, async () => {
      const vmid = Number(/(\d+)$/.exec(hypervisorId.trim())?.[1]);
      const res = await this.vms.resources('vm', ctx.signal);
      const target = res.vms.find((v) => v.vmid === vmid);
      if (!target) throw new PermanentError(`expected a Proxmox VM with VMID ${hypervisorId} to adopt, found none`, { reason: 'AdoptTargetNotFound' });
      if (target.template) throw new PermanentError(`Proxmox VM ${vmid} is a template; templates are not adopted`, { reason: 'AdoptTargetNotFound' });
      const owner = identityOf(target.tags).uid;
      if (owner && owner !== uid) throw new PermanentError(`expected Proxmox VM ${vmid} to be unmanaged, it carries uid ${owner}`, { reason: 'AlreadyManaged' });
      const elsewhere = await this.vms.locate(uid, res.vms.filter((v) => v.vmid !== vmid), ctx.signal);
      if (elsewhere) throw new PermanentError(`expected uid ${uid} on no VM, it is on VMID ${elsewhere.loc.vmid}`, { reason: 'AlreadyManaged' });
      const loc = { vmid, node: target.node, uid };
      this.vms.located.set(vmid, loc);
      await this.vms.writeTags(loc, (tags) => tagsWith(tags, uid, ctx.generation), ctx.signal);
      return this.vms.refresh(loc, undefined, ctx.signal);
    });
  }

  async release(vm: ObservedVM, ctx: OperationContext): Promise<void> {
    await this.guard(`releasing VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      await this.vms.writeTags(loc, (tags) => tagsWith(tags, undefined, undefined), ctx.signal,
        (config): Record<string, string> => {
          if (!uidInDescription(config.description ?? '')) return {};
          const rest = withoutUidLine(config.description ?? '');
          return rest ? { description: rest } : { delete: 'description' };
        });
      this.vms.located.delete(loc.vmid);
    }));
  }

  async snapshotCreate(vm: ObservedVM, req: SnapshotCreate, ctx: OperationContext): Promise<SnapshotInfo> {
    return this.guard(`taking snapshot ${req.name || req.snapshotUid} of VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      const name = snapshotName(req.snapshotUid, req.name);
      const existing = (await this.vms.snapshots(loc, ctx.signal)).find((s) => s.id === name);
      if (existing) return existing;
      const running = (await this.vms.status(loc, ctx.signal)).status === 'running';
      const path = `${vmPath(loc.node, loc.vmid)}/snapshot`;
      try {
        await this.vms.task(`snapshot ${name} of VM ${loc.vmid}`, ctx, () => this.client.post(path, {
          snapname: name,
          description: snapshotDescription(req.description, req.snapshotUid, req.name),
          ...(req.includeMemory && running ? { vmstate: 1 } : {}),
        }, ctx.signal), `POST ${path}`);
      } catch (err) {
        // Taken by an earlier attempt whose answer was lost.
        if (!(err instanceof PveApiError && /already (used|exists)/i.test(err.pveMessage))) throw err;
      }
      const made = (await this.vms.snapshots(loc, ctx.signal)).find((s) => s.id === name);
      if (!made) throw new TransientError(`snapshot ${name} of VM ${loc.vmid} was taken but is not listed`, { reason: 'SnapshotMissing' });
      return made;
    }));
  }

  async snapshotRevert(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`reverting VM ${vm.id} to snapshot ${snapshotId} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      const snaps = await this.vms.snapshots(loc, ctx.signal);
      if (!snaps.some((s) => s.id === snapshotId)) throw new PermanentError(`expected snapshot ${snapshotId} on VM ${vm.id}, found none`, { reason: 'SnapshotNotFound' });
      const path = `${vmPath(loc.node, loc.vmid)}/snapshot/${encodeURIComponent(snapshotId)}/rollback`;
      await this.vms.task(`rollback of VM ${loc.vmid} to ${snapshotId}`, ctx, () => this.client.post(path, {}, ctx.signal), `POST ${path}`);
      return this.vms.refresh(loc, snaps, ctx.signal);
    }));
  }

  async snapshotDelete(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<void> {
    await this.guard(`deleting snapshot ${snapshotId} of VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      const path = `${vmPath(loc.node, loc.vmid)}/snapshot/${encodeURIComponent(snapshotId)}`;
      try {
        await this.vms.task(`deletion of snapshot ${snapshotId} of VM ${loc.vmid}`, ctx, () => this.client.delete(path, {}, ctx.signal), `DELETE ${path}`);
      } catch (err) {
        if (!(err instanceof PveApiError && /does not exist/i.test(err.pveMessage))) throw err;
      }
    }));
  }

  async clone(source: ObservedVM, targetUid: string, linked: boolean, target: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`cloning VM ${source.id} to ${targetUid} on Proxmox`, async () => {
      const res = await this.vms.resources(undefined, ctx.signal);
      const existing = await this.vms.locate(targetUid, res.vms, ctx.signal);
      if (existing) return this.vms.refresh(existing.loc, undefined, ctx.signal);
      const src = res.vms.find((v) => String(v.vmid) === source.id);
      if (!src) throw new TransientError(`expected source VM ${source.id} on Proxmox, it is gone`, { reason: 'VMVanished' });
      if (linked && !src.template) {
        throw new PermanentError(`a linked clone needs a template as its source; Proxmox VM ${src.vmid} is not one (convert it, or ask for a full clone)`, { reason: 'LinkedCloneNeedsTemplate' });
      }
      const node = target.placement?.node || target.placement?.host || src.node;
      const loc = await this.provision.cloneInto(targetUid, src, { node, full: !linked, storage: target.placement?.datastore || undefined, desired: target, res, ctx });
      const made = await this.vms.refresh(loc, [], ctx.signal);
      return (await this.reconfigure(made, target, ctx)).vm;
    });
  }

  async recordGeneration(vm: ObservedVM, generation: bigint, ctx: OperationContext): Promise<ObservedVM> {
    if (vm.appliedGeneration >= generation) return vm;
    return this.guard(`recording generation ${generation} on VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, ctx.signal, async (loc) => {
      await this.vms.writeTags(loc, (tags) => {
        const id = identityOf(tags);
        const uid = loc.uid ?? id.uid;
        return tagsWith(tags, uid, id.generation > generation ? id.generation : generation);
      }, ctx.signal);
      const out = clone(ObservedVMSchema, vm);
      out.appliedGeneration = generation;
      return out;
    }));
  }

  /**
   * A noVNC session ticket for the VM's console (POST …/vncproxy), for callers that open the
   * websocket themselves. The ticket is a secret: never log it.
   */
  async consoleTicket(vm: ObservedVM): Promise<{ url: string; port: number; ticket: string }> {
    return this.guard(`opening the console of VM ${vm.id} on Proxmox`, () => this.vms.onVm(vm, undefined, async (loc) => {
      const path = `${vmPath(loc.node, loc.vmid)}/vncproxy`;
      const p = parseVncProxy(await this.client.post(path, { websocket: 1 }), `POST ${path}`);
      return { url: vm.consoleUrl, port: p.port, ticket: p.ticket };
    }));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
