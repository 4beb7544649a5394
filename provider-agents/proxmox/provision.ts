/**
 * Making a new VM for a uid: a fresh one (blank disk, imported image or installer ISO) or a clone.
 * Both take the first free VMID of the uid's candidate sequence (identity.ts), so a make that an
 * agent restart interrupted is found again; both carry the uid from the first call on (tags for a
 * create, the description for a clone, whose tags are written right after).
 */
import type { DesiredVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { OperationContext } from '../core/driver.ts';
import { PermanentError } from '../core/errors.ts';
import { cloudInitOptions } from './cloud-init.ts';
import { isVmidTaken } from './errors.ts';
import { candidateVmids, describeWithUid, joinTags, tagsWith } from './identity.ts';
import { ensureImage, imageFile } from './images.ts';
import { parseUpid, type Resources, type VmResource } from './parse.ts';
import { chooseNode, chooseStorage } from './placement.ts';
import { retryOnLock } from './retry.ts';
import { waitForTask } from './tasks.ts';
import { createOnlyOptions, DEFAULT_BOOT_DISK_GIB, diskPlan, hardwareOptions, nicOptions } from './vm-spec.ts';
import { vmPath, type Location, type PveVms } from './vms.ts';

export class Provisioner {
  constructor(private readonly vms: PveVms, private readonly bridge: string) {}

  /**
   * Takes the uid's first free candidate VMID and runs `start` there (create or clone), then its
   * task. A VMID taken meanwhile (PVE: "already exists") moves on to the next candidate; a task
   * that fails on a lock (PVE removed the half-made VM) starts over after a pause.
   */
  private async allocate(uid: string, res: Resources, what: string, ctx: OperationContext, start: (vmid: number) => Promise<{ node: string; upid: unknown; call: string }>): Promise<Location & { made: boolean }> {
    let vms = res.vms;
    return retryOnLock(async () => {
      for (const vmid of candidateVmids(uid, this.vms.range)) {
        if (vms.some((v) => v.vmid === vmid)) continue;
        let started;
        try {
          started = await retryOnLock(() => start(vmid), this.vms.retryOpts(what, ctx.signal));
        } catch (err) {
          if (!isVmidTaken(err)) throw err;
          vms = (await this.vms.resources('vm', ctx.signal)).vms;
          const mine = await this.vms.locate(uid, vms, ctx.signal);
          if (mine) return { ...mine.loc, made: false };
          continue;
        }
        const loc = { vmid, node: started.node, uid };
        this.vms.located.set(vmid, loc);
        const upid = parseUpid(started.upid, started.call);
        if (upid) await waitForTask(this.vms.client, upid, `${what} (VMID ${vmid})`, ctx, this.vms.taskWait);
        return { ...loc, made: true };
      }
      throw new PermanentError(`none of the ${candidateVmids(uid, this.vms.range).length} candidate VMIDs of VM ${uid} in ${this.vms.range.min}–${this.vms.range.max} is free; widen PROXMOX_VMID_RANGE`, { reason: 'NoFreeVMID' });
    }, this.vms.retryOpts(what, ctx.signal));
  }

  async createFresh(uid: string, desired: DesiredVM, res: Resources, ctx: OperationContext): Promise<{ loc: Location & { made: boolean }; name: string }> {
    const placement = desired.placement;
    const node = chooseNode(res, placement?.node || placement?.host);
    const storage = chooseStorage(res, node, placement?.datastore || undefined, 'images');
    const source = desired.image?.source;
    const bootGiB = desired.disks[0]?.sizeGib || DEFAULT_BOOT_DISK_GIB;
    const boot: Record<string, string> = {};
    if (source?.case === 'url') {
      const iso = imageFile(source.value).content === 'iso';
      const imgStorage = chooseStorage(res, node, source.value.storage || undefined, iso ? 'iso' : 'import');
      const volid = await ensureImage(this.vms.client, node, imgStorage, source.value, ctx, this.vms.taskWait);
      if (iso) {
        boot.scsi0 = `${storage}:${bootGiB}`;
        boot.ide2 = `${volid},media=cdrom`;
        boot.boot = 'order=scsi0;ide2';
      } else {
        boot.scsi0 = `${storage}:0,import-from=${volid}`;
        boot.boot = 'order=scsi0';
      }
    } else if (source?.case === 'existingDisk') {
      const from = source.value.diskId || source.value.path;
      if (!from) throw new PermanentError('the existing disk names neither a disk id (volume id) nor a path', { reason: 'InvalidImage' });
      boot.scsi0 = `${storage}:0,import-from=${from}`;
      boot.boot = 'order=scsi0';
    } else if (source?.case === 'vsphereTemplate') {
      throw new PermanentError('a vSphere template cannot be used on Proxmox VE; use a Proxmox template or an image URL', { reason: 'InvalidImage' });
    } else {
      boot.scsi0 = `${storage}:${bootGiB}`;
      boot.boot = 'order=scsi0';
    }
    const ci = cloudInitOptions(desired);
    const params: Record<string, string | number> = {
      ...createOnlyOptions(desired, storage),
      ...defined(hardwareOptions(desired, {})),
      ...defined(nicOptions(desired, {}, { bridge: this.bridge })),
      ...boot,
      ...(ci ? { ...ci.options, ide0: `${storage}:cloudinit` } : {}),
      ...diskPlan(desired, boot, { storage }).add,
      name: ci?.hostname ?? `vr-${uid.slice(0, 8)}`,
      tags: joinTags(tagsWith([], uid, ctx.generation, desired.tags)),
      description: describeWithUid('', uid),
      ...(placement?.resourcePool ? { pool: placement.resourcePool } : {}),
    };
    if (!desired.networks.length) params.net0 = `virtio,bridge=${this.bridge}`;
    const loc = await this.allocate(uid, res, `create of VM ${uid}`, ctx, async (vmid) => {
      const path = `/nodes/${encodeURIComponent(node)}/qemu`;
      return { node, upid: await this.vms.client.post(path, { vmid, ...params }, ctx.signal), call: `POST ${path}` };
    });
    return { loc, name: String(params.name) };
  }

  /** Clones `source` for `uid` (the uid in the clone's description), then writes the uid's tags. */
  async cloneInto(uid: string, source: VmResource, o: { node: string; full: boolean; storage: string | undefined; desired: DesiredVM; res: Resources; ctx: OperationContext }): Promise<Location> {
    const ci = cloudInitOptions(o.desired);
    const name = ci?.hostname ?? `vr-${uid.slice(0, 8)}`;
    const loc = await this.allocate(uid, o.res, `clone of VM ${source.vmid} for ${uid}`, o.ctx, async (newid) => {
      const path = `${vmPath(source.node, source.vmid)}/clone`;
      const upid = await this.vms.client.post(path, {
        newid, name, description: describeWithUid('', uid), full: o.full,
        ...(o.full && o.storage ? { storage: o.storage } : {}),
        ...(o.node !== source.node ? { target: o.node } : {}),
        ...(o.desired.placement?.resourcePool ? { pool: o.desired.placement.resourcePool } : {}),
      }, o.ctx.signal);
      return { node: o.node, upid, call: `POST ${path}` };
    });
    await this.vms.writeTags(loc, (tags) => tagsWith(tags, uid, o.ctx.generation, o.desired.tags), o.ctx.signal);
    return loc;
  }
}

function defined(o: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== null));
}
