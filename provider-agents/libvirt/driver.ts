/**
 * The libvirt/KVM driver: the Driver interface over libvirt's RPC protocol on one long-lived
 * connection (connection.ts). No process is spawned per operation.
 *
 * Identity: the object UID lives in the domain's <metadata> (metadata.ts), together with the
 * applied generation and the volumes the VM owns; domains we create are also named `vr-<uid>` and
 * get the UID as their libvirt UUID, so a create retried after a lost answer redefines the same
 * domain instead of making a second one. `find` goes through an index kept current by domain events
 * (uid-index.ts) and confirms every answer against the domain itself.
 */
import { create } from '@bufbuild/protobuf';
import { createHash, randomUUID } from 'node:crypto';
import {
  PowerState, type CloudInit, type DesiredVM, type DiskSpec, type NetworkSpec, type ObservedVM, type SnapshotCreate, type SnapshotInfo,
  Firmware, ObservedVMSchema,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Driver, OperationContext, ReconfigureResult } from '../core/driver.ts';
import { NotSupportedError, PermanentError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { buildNoCloudIso } from './cloud-init-iso.ts';
import { hasCloudInit, noCloudFiles } from './cloud-init.ts';
import type { LibvirtConfig } from './config.ts';
import { LibvirtConnection } from './connection.ts';
import { buildDomainXml, diskElement, nicElement, readDomainXml, type DiskDevice, type DomainFacts, type NicDevice } from './domain-xml.ts';
import { asAgentError, guarded, isLibvirtCode, isUnsupported } from './errors.ts';
import { ImageCache } from './images.ts';
import { metadataForSet, METADATA_NS, METADATA_PREFIX, type VolumeName, type VrMetadata } from './metadata.ts';
import { isActiveState, observe, type Observation } from './observe.ts';
import { LibvirtError } from './rpc/errors.ts';
import {
  AFFECT_CONFIG, AFFECT_LIVE, BLOCK_RESIZE_BYTES, DOMAIN_XML_INACTIVE, DOMAIN_XML_SECURE, DomainState, ErrorCode, LifecycleEventType,
  MEM_MAXIMUM, METADATA_ELEMENT, P, SHUTDOWN_DEFAULT, UNDEFINE_MANAGED_SAVE, UNDEFINE_NVRAM, UNDEFINE_SNAPSHOTS_METADATA, VCPU_MAXIMUM,
  uuidBytes, uuidString, type DomainRef,
} from './rpc/protocol.ts';
import { createSnapshot, lookupSnapshot } from './snapshots.ts';
import { cloneDefinition, replaceMetadata } from './clone-xml.ts';
import { Storage } from './storage.ts';
import { UidIndex } from './uid-index.ts';
import { child, children, parseXml, toXml, type XmlElement } from './xml.ts';

/** Features this driver offers (api/capabilities.ts names; the libvirt row). */
export const LIBVIRT_CAPABILITIES = [
  'secureBoot', 'tpm', 'nestedVirtualization', 'cpuHotAdd', 'memoryHotAdd', 'gpu', 'memorySnapshots', 'linkedClones', 'onlineDiskExpansion',
];

const GIB = 1024n ** 3n;
const DEFAULT_GRACEFUL_S = 60;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LibvirtDriverOptions extends LibvirtConfig {
  log: Logger;
  /** Connection tuning (tests use short intervals). */
  connection?: { callWaitMs?: number; connectTimeoutMs?: number; backoffInitialMs?: number; backoffMaxMs?: number };
}

export const domainNameFor = (uid: string) => `vr-${uid}`;
const volumeNameFor = (uid: string, part: string) => `vr-${uid}-${part.replace(/[^A-Za-z0-9._-]+/g, '-')}`;

/** A stable locally administered MAC per VM and NIC index (same NIC, same DHCP lease, across re-creates). */
export function macFor(uid: string, index: number): string {
  const h = createHash('sha256').update(`${uid}/${index}`).digest();
  return `52:54:00:${[h[0]!, h[1]!, h[2]!].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

function diskTarget(index: number): string {
  let n = index;
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `vd${s}`;
}

export class LibvirtDriver implements Driver {
  readonly type = 'libvirt';
  readonly conn: LibvirtConnection;
  readonly storage: Storage;
  readonly index: UidIndex;
  private readonly images: ImageCache;
  private readonly log: Logger;
  private readonly stopWaiters = new Map<string, Set<() => void>>();

  private constructor(private readonly opts: LibvirtDriverOptions) {
    this.log = opts.log.child({ component: 'libvirt', uri: opts.uri.display });
    this.conn = LibvirtConnection.start({
      uri: opts.uri,
      credentials: opts.credentials,
      insecureSkipVerify: opts.insecureSkipVerify,
      log: this.log,
      keepaliveIntervalMs: opts.keepaliveIntervalMs,
      keepaliveCount: opts.keepaliveCount,
      ...opts.connection,
    });
    this.storage = new Storage(this.conn);
    this.index = new UidIndex(this.conn, this.log);
    this.images = new ImageCache(this.storage, { defaultPool: opts.storagePool, downloadDir: opts.downloadDir, log: this.log });
    this.conn.onEvent((e) => {
      if (e.kind !== 'lifecycle') return;
      if (e.event.event !== LifecycleEventType.Stopped && e.event.event !== LifecycleEventType.Undefined) return;
      const waiters = this.stopWaiters.get(uuidString(e.event.dom.uuid));
      if (waiters) for (const w of [...waiters]) w();
    });
  }

  /** Opens the driver; the connection is made in the background (validate() says whether it is up). */
  static open(opts: LibvirtDriverOptions): LibvirtDriver {
    return new LibvirtDriver(opts);
  }

  // --- Driver: health ---

  async capabilities(): Promise<string[]> {
    return LIBVIRT_CAPABILITIES;
  }

  async validate(): Promise<{ version: string }> {
    return guarded(`check libvirt at ${this.opts.uri.display}`, async () => {
      await this.conn.ready();
      const version = await this.conn.call(P.connectGetVersion, undefined);
      return { version: `${this.opts.uri.driver} ${version / 1000000n}.${(version / 1000n) % 1000n}.${version % 1000n}` };
    });
  }

  // --- Driver: identity ---

  async find(uid: string): Promise<ObservedVM | undefined> {
    return guarded(`find VM ${uid}`, async () => (await this.findObservation(uid))?.vm);
  }

  /** The domain carrying `uid`, observed; undefined only when a fresh scan of all domains has none. */
  private async findObservation(uid: string): Promise<(Observation & { dom: DomainRef }) | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let entry = await this.index.lookup(uid);
      if (!entry && attempt === 0) {
        await this.index.rebuild();
        entry = await this.index.lookup(uid);
      }
      if (!entry) return undefined;
      try {
        const o = await observe(this.conn, entry.dom, this.opts.consoleHost);
        if (o.facts.metadata?.uid === uid) return { ...o, dom: entry.dom };
      } catch (err) {
        if (!isLibvirtCode(err, ErrorCode.NoDomain)) throw err;
      }
      // The index was wrong (undefined or relabelled meanwhile): scan again.
      await this.index.rebuild();
    }
    throw new TransientError(`the domain index keeps disagreeing with libvirt about VM ${uid}; retrying later`, { reason: 'IndexUnstable' });
  }

  /** Every domain this agent manages, observed (what a full listing costs). */
  async list(): Promise<{ uid: string; vm: ObservedVM }[]> {
    return guarded('list VMs', async () => {
      const entries = (await this.index.all()).filter((e) => e.meta);
      const out = await Promise.all(entries.map(async (e) => {
        try {
          return { uid: e.meta!.uid, vm: (await observe(this.conn, e.dom, this.opts.consoleHost)).vm };
        } catch (err) {
          if (isLibvirtCode(err, ErrorCode.NoDomain)) return undefined;
          throw err;
        }
      }));
      return out.filter((x): x is { uid: string; vm: ObservedVM } => !!x);
    });
  }

  private async domainById(id: string): Promise<DomainRef | undefined> {
    try {
      return UUID_RE.test(id)
        ? await this.conn.call(P.domainLookupByUuid, { uuid: uuidBytes(id) })
        : await this.conn.call(P.domainLookupByName, { name: id });
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoDomain)) return undefined;
      throw err;
    }
  }

  private async requireDomain(vm: ObservedVM): Promise<DomainRef> {
    const dom = await this.domainById(vm.id);
    if (!dom) throw new TransientError(`expected domain ${vm.id} on ${this.opts.uri.display}, it is gone`, { reason: 'VMVanished' });
    return dom;
  }

  private async observed(dom: DomainRef): Promise<ObservedVM> {
    return (await observe(this.conn, dom, this.opts.consoleHost)).vm;
  }

  private async isActive(dom: DomainRef): Promise<boolean> {
    return isActiveState((await this.conn.call(P.domainGetState, { dom, flags: 0 })).state);
  }

  /** Writes our metadata element (undefined removes it) to the persistent config, and the live one when running. */
  private async writeMetadata(dom: DomainRef, meta: VrMetadata | undefined): Promise<void> {
    const active = await this.isActive(dom);
    const args = (flags: number) => ({
      dom, type: METADATA_ELEMENT, metadata: meta ? metadataForSet(meta) : undefined, key: meta ? METADATA_PREFIX : undefined, uri: METADATA_NS, flags,
    });
    try {
      await this.conn.call(P.domainSetMetadata, args(AFFECT_CONFIG | (active ? AFFECT_LIVE : 0)));
    } catch (err) {
      // Some drivers (the test driver) take live and config only one at a time.
      if (!active || !isLibvirtCode(err, ErrorCode.InvalidArg, ErrorCode.OperationInvalid)) throw err;
      await this.conn.call(P.domainSetMetadata, args(AFFECT_LIVE));
      await this.conn.call(P.domainSetMetadata, args(AFFECT_CONFIG));
    }
    this.index.set(dom, meta);
  }

  // --- Driver: create ---

  async create(uid: string, desired: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    return guarded(`create VM ${uid}`, async () => {
      const existing = await this.findObservation(uid);
      if (existing) return existing.vm;
      const name = domainNameFor(uid);
      const hardware = this.classSpec(desired);
      await this.checkFirmware(hardware);
      if (desired.cloudInit?.ignition.length) {
        throw new PermanentError('Ignition configs are not supported by the libvirt provider; use cloud-init user-data', { reason: 'IgnitionUnsupported' });
      }
      try {
        return await this.defineNew(uid, name, desired, hardware, ctx);
      } catch (err) {
        // A create that cannot succeed as asked leaves no volumes behind; a retryable one keeps them for the retry.
        const final = asAgentError(err, '');
        if (final instanceof PermanentError || final instanceof NotSupportedError) {
          const pools = [this.poolFor(desired), ...desired.disks.map((d) => this.poolFor(desired, d))];
          await this.removeVolumes({ uid, generation: 0n, adopted: false, volumes: [], bases: [] }, pools)
            .catch((e) => this.log.warn('cleanup after a failed create failed', { uid, err: e }));
        }
        throw err;
      }
    });
  }

  private async defineNew(uid: string, name: string, desired: DesiredVM, hardware: ReturnType<LibvirtDriver['classSpec']>, ctx: OperationContext): Promise<ObservedVM> {
    ctx.progress(5, 'preparing disks');
    const { disks, volumes } = await this.prepareDisks(uid, desired, ctx);
    ctx.signal.throwIfAborted();
    const nics = this.nicsFor(uid, desired.networks);
    if (hasCloudInit(desired.cloudInit)) {
      ctx.progress(70, 'writing the cloud-init seed');
      const seed = await this.writeSeed(uid, desired.cloudInit, desired.networks, nics, this.poolFor(desired));
      disks.push({ path: seed.path, format: 'raw', target: diskTarget(disks.length), readonly: true, serial: 'cidata' });
      volumes.push(seed.volume);
    }
    const meta: VrMetadata = { uid, generation: ctx.generation ?? 0n, adopted: false, volumes, bases: [] };
    const xml = toXml(buildDomainXml({
      ...hardware,
      name,
      uuid: UUID_RE.test(uid) ? uid.toLowerCase() : randomUUID(),
      disks,
      nics,
      metadata: meta,
    }));
    ctx.progress(85, 'defining the domain');
    let dom: DomainRef;
    try {
      dom = await this.conn.call(P.domainDefineXml, { xml });
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.DomExist, ErrorCode.OperationFailed) && /already exists/.test((err as LibvirtError).remote.message ?? '')) {
        throw new PermanentError(`a domain named ${name} already exists on ${this.opts.uri.display} without this VM's identity; rename or remove it`, { reason: 'NameConflict', cause: err });
      }
      throw err;
    }
    this.index.set(dom, meta);
    this.log.info('domain defined', { uid, domain: name });
    return this.observed(dom);
  }

  /** Hardware profile from the class and the pass-through keys (class.extraConfig). */
  private classSpec(desired: DesiredVM) {
    const c = desired.class;
    const x = c?.extraConfig ?? {};
    const cpus = c?.cpus || 1;
    const memKiB = (c?.memoryMib || 1024n) * 1024n;
    const graphics = (x.graphics ?? this.opts.graphics) as 'vnc' | 'spice' | 'none';
    return {
      type: x.domainType ?? this.opts.domainType,
      title: c?.name || undefined,
      vcpus: cpus,
      // Hot-add: room to grow without a restart (vCPU hotplug up to the maximum; memory through the balloon).
      maxVcpus: c?.cpuHotAdd ? Math.min(Math.max(cpus * 4, 8), 64) : cpus,
      memoryKiB: memKiB,
      maxMemoryKiB: c?.memoryHotAdd ? memKiB * 2n : memKiB,
      firmware: c?.firmware === Firmware.UEFI || c?.secureBoot ? 'efi' as const : 'bios' as const,
      secureBoot: !!c?.secureBoot,
      machine: x.machine,
      nestedVirtualization: !!c?.nestedVirtualization,
      tpm: !!c?.tpm,
      kernel: x.kernel ? { path: x.kernel, initrd: x.initrd, cmdline: x.cmdline } : undefined,
      graphics: graphics === 'spice' || graphics === 'none' ? graphics : 'vnc' as const,
      graphicsListen: x.graphicsListen ?? this.opts.graphicsListen,
      serialLogFile: x.serialLogFile,
      guestAgent: x.guestAgent !== 'false',
    };
  }

  /**
   * UEFI needs OVMF on the host, secure boot its secboot build: asked of libvirt's domain
   * capabilities, so a missing package is a clear permanent error at create, not a failed start.
   */
  private async checkFirmware(hw: { firmware: string; secureBoot: boolean; type: string; machine?: string }): Promise<void> {
    if (hw.firmware !== 'efi' || hw.type === 'test') return;
    let xml: string;
    try {
      xml = await this.conn.call(P.connectGetDomainCapabilities, { virtType: hw.type, arch: 'x86_64', machine: hw.machine ?? (hw.secureBoot ? 'q35' : undefined), flags: 0 });
    } catch (err) {
      if (isUnsupported(err)) return; // the driver cannot tell; libvirt checks again at start
      throw err;
    }
    const os = child(parseXml(xml, 'domain capabilities'), 'os');
    const values = (parent: XmlElement | undefined, name: string) => children(parent, 'enum').find((e) => e.attrs.name === name)?.children.map((v) => v.text ?? '') ?? [];
    if (os?.attrs.supported !== 'yes' || !values(os, 'firmware').includes('efi')) {
      throw new PermanentError(`UEFI firmware was asked for, but ${this.opts.uri.display} has no UEFI firmware for ${hw.type} guests (install OVMF: the ovmf package)`, { reason: 'FirmwareUnavailable' });
    }
    if (hw.secureBoot && !values(child(os, 'loader'), 'secure').includes('yes')) {
      throw new PermanentError(`secure boot was asked for, but ${this.opts.uri.display} has no secure-boot capable UEFI firmware (OVMF's secboot build)`, { reason: 'SecureBootUnavailable' });
    }
  }

  private poolFor(desired: DesiredVM, disk?: DiskSpec): string {
    return disk?.storage || desired.placement?.datastore || (desired.image?.source.case === 'url' ? desired.image.source.value.storage : '') || this.opts.storagePool;
  }

  private nicsFor(uid: string, networks: NetworkSpec[]): NicDevice[] {
    return networks.map((n, i) => ({
      kind: n.kind === 'bridge' ? 'bridge' as const : 'network' as const,
      source: n.network || n.name || 'default',
      mac: (n.macAddress || macFor(uid, i)).toLowerCase(),
      model: n.model || 'virtio',
      vlan: n.vlan || undefined,
      mtu: n.mtu || undefined,
    }));
  }

  /** The boot disk (from the image) and the extra disks, as volumes named after the uid. */
  private async prepareDisks(uid: string, desired: DesiredVM, ctx: OperationContext): Promise<{ disks: DiskDevice[]; volumes: VolumeName[] }> {
    const disks: DiskDevice[] = [];
    const volumes: VolumeName[] = [];
    const source = desired.image?.source;
    if (source?.case === 'url') {
      const image = await this.images.ensure(source.value, ctx.signal, (p, what) => ctx.progress(5 + Math.round(p * 0.5), what));
      const pool = image.pool;
      const rootSpec = desired.disks.find((d) => d.name === 'root' || d.name === 'boot');
      const capacity = rootSpec?.sizeGib ? BigInt(rootSpec.sizeGib) * GIB : 0n;
      const name = `${volumeNameFor(uid, 'root')}.qcow2`;
      if (this.opts.imageClone === 'full') {
        const vol = await this.storage.copy(pool, { name, format: image.format === 'raw' ? 'raw' : 'qcow2', capacityBytes: capacity > image.sizeBytes ? capacity : image.sizeBytes }, image.vol);
        disks.push({ path: await this.storage.path(vol), format: image.format, target: diskTarget(disks.length), serial: 'root' });
      } else {
        const { vol } = await this.storage.create(pool, {
          name, format: 'qcow2', capacityBytes: capacity > image.sizeBytes ? capacity : image.sizeBytes, backing: { path: image.path, format: image.format },
        });
        disks.push({ path: await this.storage.path(vol), format: 'qcow2', target: diskTarget(disks.length), serial: 'root' });
      }
      volumes.push({ pool, name });
    } else if (source?.case === 'existingDisk') {
      const d = source.value;
      if (!d.path) throw new PermanentError(`existing disk ${d.diskId} has no path`, { reason: 'InvalidSpec' });
      disks.push({ path: d.path, format: d.format || 'qcow2', target: diskTarget(disks.length), serial: 'root' });
    } else if (source && source.case !== undefined) {
      throw new PermanentError(`image source ${source.case} cannot be used by the libvirt provider (a URL or an existing disk)`, { reason: 'UnsupportedImageSource' });
    }
    for (const d of desired.disks) {
      if (d.name === 'root' || d.name === 'boot' || d.sizeGib <= 0) continue;
      const vol = await this.createDataDisk(uid, desired, d);
      disks.push({ ...vol.device, target: diskTarget(disks.length) });
      volumes.push(vol.volume);
    }
    return { disks, volumes };
  }

  private async createDataDisk(uid: string, desired: DesiredVM, d: DiskSpec): Promise<{ device: Omit<DiskDevice, 'target'>; volume: VolumeName }> {
    const pool = this.poolFor(desired, d);
    const thick = (d.type || desired.class?.diskType) === 'thick';
    const format = thick ? 'raw' as const : 'qcow2' as const;
    const name = `${volumeNameFor(uid, d.name)}.${format === 'raw' ? 'img' : 'qcow2'}`;
    const { vol } = await this.storage.create(pool, { name, format, capacityBytes: BigInt(d.sizeGib) * GIB, preallocate: thick });
    return { device: { path: await this.storage.path(vol), format, serial: d.name.slice(0, 20) }, volume: { pool, name } };
  }

  /** The NoCloud seed as a fresh volume (a partial one from an earlier attempt is replaced). */
  private async writeSeed(uid: string, ci: CloudInit, networks: NetworkSpec[], nics: NicDevice[], pool: string): Promise<{ path: string; volume: VolumeName }> {
    const iso = buildNoCloudIso(noCloudFiles(ci, uid, domainNameFor(uid), networks.map((spec, i) => ({ spec, mac: nics[i]!.mac! }))));
    const name = `${volumeNameFor(uid, 'cidata')}.iso`;
    await this.storage.remove(pool, name);
    const { vol } = await this.storage.create(pool, { name, format: 'raw', capacityBytes: BigInt(iso.length) });
    try {
      await this.storage.upload(vol, iso.length, (async function* () {
        yield iso;
      })());
    } catch (err) {
      if (isUnsupported(err)) {
        await this.storage.remove(pool, name).catch(() => undefined);
        throw new NotSupportedError(`uploading the cloud-init seed (${this.opts.uri.display} has no volume upload)`, 'libvirt');
      }
      throw err;
    }
    return { path: await this.storage.path(vol), volume: { pool, name } };
  }

  // --- Driver: reconfigure ---

  async reconfigure(vm: ObservedVM, desired: DesiredVM, ctx: OperationContext): Promise<ReconfigureResult> {
    return guarded(`reconfigure VM ${vm.id}`, async () => {
      const dom = await this.requireDomain(vm);
      const active = await this.isActive(dom);
      const live = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: 0 }));
      const uid = live.metadata?.uid ?? '';
      const restartRequired: string[] = [];
      const cpus = desired.class?.cpus || 0;
      if (cpus && cpus !== live.vcpus) {
        if (!(await this.setVcpus(dom, live, cpus, active))) restartRequired.push(`cpus ${live.vcpus}→${cpus}`);
      }
      const memKiB = (desired.class?.memoryMib ?? 0n) * 1024n;
      if (memKiB && memKiB !== live.memoryKiB) {
        if (!(await this.setMemory(dom, live, memKiB, active))) restartRequired.push(`memory ${live.memoryKiB / 1024n}→${memKiB / 1024n} MiB`);
      }
      ctx.signal.throwIfAborted();
      if (uid) {
        const config = active ? readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE })) : live;
        restartRequired.push(...await this.reconcileDisks(dom, uid, live, config, desired, active));
        restartRequired.push(...await this.reconcileNics(dom, uid, live, config, desired.networks, active));
      }
      return { vm: await this.observed(dom), restartRequired };
    });
  }

  /** True when the running domain has the new count now; false when only the config has it (restart needed). */
  private async setVcpus(dom: DomainRef, live: DomainFacts, cpus: number, active: boolean): Promise<boolean> {
    if (active && cpus <= live.maxVcpus) {
      try {
        await this.conn.call(P.domainSetVcpusFlags, { dom, nvcpus: cpus, flags: AFFECT_LIVE });
        await this.conn.call(P.domainSetVcpusFlags, { dom, nvcpus: cpus, flags: AFFECT_CONFIG });
        return true;
      } catch (err) {
        if (!(err instanceof LibvirtError)) throw err;
        this.log.info('live vCPU change refused; applying at the next power cycle', { domain: dom.name, error: err.message });
      }
    }
    const config = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE }));
    if (cpus > config.maxVcpus) await this.conn.call(P.domainSetVcpusFlags, { dom, nvcpus: cpus, flags: AFFECT_CONFIG | VCPU_MAXIMUM });
    await this.conn.call(P.domainSetVcpusFlags, { dom, nvcpus: cpus, flags: AFFECT_CONFIG });
    return !active;
  }

  private async setMemory(dom: DomainRef, live: DomainFacts, memKiB: bigint, active: boolean): Promise<boolean> {
    if (active && memKiB <= live.maxMemoryKiB) {
      try {
        await this.conn.call(P.domainSetMemoryFlags, { dom, memoryKiB: memKiB, flags: AFFECT_LIVE });
        await this.conn.call(P.domainSetMemoryFlags, { dom, memoryKiB: memKiB, flags: AFFECT_CONFIG });
        return true;
      } catch (err) {
        if (!(err instanceof LibvirtError)) throw err;
        this.log.info('live memory change refused; applying at the next power cycle', { domain: dom.name, error: err.message });
      }
    }
    const config = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE }));
    if (memKiB > config.maxMemoryKiB) await this.conn.call(P.domainSetMemoryFlags, { dom, memoryKiB: memKiB, flags: AFFECT_CONFIG | MEM_MAXIMUM });
    await this.conn.call(P.domainSetMemoryFlags, { dom, memoryKiB: memKiB, flags: AFFECT_CONFIG });
    return !active;
  }

  private async reconcileDisks(dom: DomainRef, uid: string, live: DomainFacts, config: DomainFacts, desired: DesiredVM, active: boolean): Promise<string[]> {
    const pending: string[] = [];
    const used = new Set([...live.disks, ...config.disks].map((d) => d.target));
    for (const d of desired.disks) {
      if (d.name === 'root' || d.name === 'boot' || d.sizeGib <= 0) continue;
      const pool = this.poolFor(desired, d);
      const baseName = volumeNameFor(uid, d.name);
      const existing = (await this.storage.volume(pool, `${baseName}.qcow2`)) ?? (await this.storage.volume(pool, `${baseName}.img`));
      const facts = existing ? await this.storage.facts(existing) : undefined;
      const attached = facts ? live.disks.find((x) => x.file === facts.path) : undefined;
      const want = BigInt(d.sizeGib) * GIB;
      if (attached && facts) {
        if (facts.capacityBytes < want) await this.growDisk(dom, d.name, attached.target, existing!, want, active);
        continue;
      }
      if (facts && config.disks.some((x) => x.file === facts.path)) {
        pending.push(`disk ${d.name} added`); // in the config already; the running domain gets it at the next power cycle
        continue;
      }
      // A disk to add: its volume (kept if an earlier attempt made it), then the device.
      const vol = await this.createDataDisk(uid, desired, d);
      let i = 0;
      while (used.has(diskTarget(i))) i++;
      const target = diskTarget(i);
      used.add(target);
      const how = await this.addDevice(dom, diskElement({ ...vol.device, target }), active);
      await this.recordVolume(dom, vol.volume);
      if (active && how === 'config') pending.push(`disk ${d.name} added`);
    }
    return pending;
  }

  private async growDisk(dom: DomainRef, name: string, target: string, vol: import('./rpc/protocol.ts').VolRef, bytes: bigint, active: boolean): Promise<void> {
    try {
      if (active) await this.conn.call(P.domainBlockResize, { dom, disk: target, size: bytes, flags: BLOCK_RESIZE_BYTES });
      else await this.storage.resize(vol, bytes);
    } catch (err) {
      if (isUnsupported(err)) {
        throw new NotSupportedError(`growing disk ${name} to ${bytes / GIB} GiB (${this.opts.uri.driver} driver has no ${active ? 'block' : 'volume'} resize)`, 'libvirt');
      }
      throw err;
    }
  }

  private async reconcileNics(dom: DomainRef, uid: string, live: DomainFacts, config: DomainFacts, networks: NetworkSpec[], active: boolean): Promise<string[]> {
    const pending: string[] = [];
    const wanted = this.nicsFor(uid, networks);
    const seen = new Set(live.nics.map((n) => n.mac).filter(Boolean));
    const configured = new Set(config.nics.map((n) => n.mac).filter(Boolean));
    for (const nic of wanted) {
      if (seen.has(nic.mac!)) continue;
      if (configured.has(nic.mac!)) {
        pending.push(`NIC ${nic.mac} on ${nic.source} added`);
        continue;
      }
      const how = await this.addDevice(dom, nicElement(nic), active);
      if (active && how === 'config') pending.push(`NIC ${nic.mac} on ${nic.source} added`);
    }
    return pending;
  }

  /**
   * Adds a device to the running domain and its config; where live attach is refused, to the
   * config only ('config': the running domain gets it at the next power cycle). Drivers without
   * attach at all (the test driver) get it by redefining the persistent XML.
   */
  private async addDevice(dom: DomainRef, device: XmlElement, active: boolean): Promise<'live' | 'config'> {
    const xml = toXml(device);
    if (active) {
      try {
        await this.conn.call(P.domainAttachDeviceFlags, { dom, xml, flags: AFFECT_LIVE | AFFECT_CONFIG });
        return 'live';
      } catch (err) {
        if (!(err instanceof LibvirtError)) throw err;
        this.log.info('live attach refused; adding to the configuration', { domain: dom.name, error: err.message });
      }
    }
    try {
      await this.conn.call(P.domainAttachDeviceFlags, { dom, xml, flags: AFFECT_CONFIG });
    } catch (err) {
      if (!isUnsupported(err)) throw err;
      await this.redefine(dom, (root) => child(root, 'devices')?.children.push(device));
    }
    return 'config';
  }

  /** Rewrites the persistent definition through `change` (used where the driver lacks a finer call). */
  private async redefine(dom: DomainRef, change: (root: XmlElement) => void): Promise<DomainRef> {
    const root = parseXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE | DOMAIN_XML_SECURE }), `domain ${dom.name} XML`);
    change(root);
    return this.conn.call(P.domainDefineXml, { xml: toXml(root) });
  }

  private async recordVolume(dom: DomainRef, volume: VolumeName): Promise<void> {
    const facts = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE }));
    const meta = facts.metadata;
    if (!meta || meta.volumes.some((v) => v.pool === volume.pool && v.name === volume.name)) return;
    await this.writeMetadata(dom, { ...meta, volumes: [...meta.volumes, volume] });
  }

  // --- Driver: power ---

  async setPower(vm: ObservedVM, state: PowerState, gracefulTimeoutSeconds: number, ctx: OperationContext): Promise<ObservedVM> {
    return guarded(`power ${PowerState[state]} VM ${vm.id}`, async () => {
      const dom = await this.requireDomain(vm);
      const { state: now } = await this.conn.call(P.domainGetState, { dom, flags: 0 });
      switch (state) {
        case PowerState.ON:
          if (now === DomainState.Paused) await this.conn.call(P.domainResume, { dom });
          else if (!isActiveState(now)) await this.start(dom);
          break;
        case PowerState.OFF:
          if (isActiveState(now)) await this.hardOff(dom);
          break;
        case PowerState.OFF_GRACEFUL:
          if (isActiveState(now)) await this.gracefulOff(dom, gracefulTimeoutSeconds || DEFAULT_GRACEFUL_S, ctx);
          break;
        default:
          break;
      }
      return this.observed(dom);
    });
  }

  private async start(dom: DomainRef): Promise<void> {
    try {
      await this.conn.call(P.domainCreateWithFlags, { dom, flags: 0 });
    } catch (err) {
      // Started meanwhile (a retried command): done.
      if (isLibvirtCode(err, ErrorCode.OperationInvalid) && (await this.isActive(dom))) return;
      throw err;
    }
  }

  private async hardOff(dom: DomainRef): Promise<void> {
    try {
      await this.conn.call(P.domainDestroy, { dom });
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.OperationInvalid) && !(await this.isActive(dom))) return;
      throw err;
    }
  }

  /** ACPI shutdown, then waits for the domain's stop event; past the timeout, a hard off. */
  private async gracefulOff(dom: DomainRef, timeoutS: number, ctx: OperationContext): Promise<void> {
    const stopped = this.waitStopped(dom, timeoutS * 1000, ctx.signal);
    try {
      await this.conn.call(P.domainShutdownFlags, { dom, flags: SHUTDOWN_DEFAULT });
    } catch (err) {
      if (!(isLibvirtCode(err, ErrorCode.OperationInvalid) && !(await this.isActive(dom)))) {
        stopped.cancel();
        throw err;
      }
    }
    ctx.progress(50, 'waiting for the guest to shut down');
    if (await stopped.done) return;
    this.log.info('guest did not shut down in time; powering off', { domain: dom.name, timeoutS });
    await this.hardOff(dom);
  }

  /** Resolves true when the domain stops (lifecycle event, or a state check every 2 s), false after the timeout. */
  private waitStopped(dom: DomainRef, timeoutMs: number, signal: AbortSignal): { done: Promise<boolean>; cancel(): void } {
    const uuid = uuidString(dom.uuid);
    let finish!: (v: boolean) => void;
    let fail!: (e: unknown) => void;
    const done = new Promise<boolean>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const waiters = this.stopWaiters.get(uuid) ?? new Set<() => void>();
    this.stopWaiters.set(uuid, waiters);
    const onStop = () => cleanup(true);
    const onAbort = () => {
      cleanup(undefined);
      fail(signal.reason);
    };
    const check = () => {
      this.isActive(dom).then((active) => (active ? undefined : cleanup(true)), () => undefined);
    };
    const timer = setTimeout(() => cleanup(false), timeoutMs);
    const poll = setInterval(check, 2000);
    const cleanup = (result: boolean | undefined) => {
      clearTimeout(timer);
      clearInterval(poll);
      waiters.delete(onStop);
      if (!waiters.size) this.stopWaiters.delete(uuid);
      signal.removeEventListener('abort', onAbort);
      if (result !== undefined) finish(result);
    };
    waiters.add(onStop);
    signal.addEventListener('abort', onAbort, { once: true });
    return { done, cancel: () => cleanup(false) };
  }

  /** Reboots the guest (ACPI); not part of the Driver interface, for callers that need it. */
  async reboot(vm: ObservedVM): Promise<ObservedVM> {
    return guarded(`reboot VM ${vm.id}`, async () => {
      const dom = await this.requireDomain(vm);
      await this.conn.call(P.domainReboot, { dom, flags: 0 });
      return this.observed(dom);
    });
  }

  // --- Driver: delete, adopt, release ---

  async destroy(vm: ObservedVM, ctx: OperationContext): Promise<void> {
    await guarded(`destroy VM ${vm.id}`, async () => {
      const dom = await this.domainById(vm.id);
      if (!dom) return;
      const config = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE }));
      const meta = config.metadata;
      if (await this.isActive(dom)) await this.hardOff(dom);
      ctx.progress(40, 'removing the domain');
      await this.undefine(dom);
      this.index.remove(uuidString(dom.uuid));
      if (meta && !meta.adopted) await this.removeVolumes(meta);
      this.log.info('domain destroyed', { uid: meta?.uid, domain: dom.name });
    });
  }

  /** Undefines with its managed-save image, snapshot metadata and UEFI variable store (drivers without NVRAM refuse that flag: then without it). */
  private async undefine(dom: DomainRef): Promise<void> {
    const base = UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA;
    try {
      await this.conn.call(P.domainUndefineFlags, { dom, flags: base | UNDEFINE_NVRAM });
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoDomain)) return;
      if (!isLibvirtCode(err, ErrorCode.InvalidArg) && !isUnsupported(err)) throw err;
      try {
        await this.conn.call(P.domainUndefineFlags, { dom, flags: base });
      } catch (again) {
        if (!isLibvirtCode(again, ErrorCode.NoDomain)) throw again;
      }
    }
  }

  /** Deletes the volumes a VM owns: those listed in its metadata and any named after its uid (a crash may have left one unlisted). */
  private async removeVolumes(meta: VrMetadata, alsoPools: string[] = []): Promise<void> {
    const pools = new Set([this.opts.storagePool, ...alsoPools, ...meta.volumes.map((v) => v.pool), ...meta.bases.map((v) => v.pool)]);
    const names = new Set(meta.volumes.map((v) => `${v.pool}/${v.name}`));
    for (const pool of pools) {
      let vols;
      try {
        vols = await this.storage.listNames(pool);
      } catch (err) {
        if (err instanceof PermanentError) continue; // pool gone
        throw err;
      }
      const shared = new Set(meta.bases.filter((b) => b.pool === pool).map((b) => b.name));
      for (const v of vols) if (v.name.startsWith(`vr-${meta.uid}-`) && !shared.has(v.name)) names.add(`${pool}/${v.name}`);
    }
    for (const key of names) {
      const [pool, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      await this.storage.remove(pool, name);
    }
    // Frozen disks shared with linked clones go with the last domain that still uses them.
    if (meta.bases.length) {
      const others = (await this.index.all()).filter((e) => e.meta && e.meta.uid !== meta.uid).flatMap((e) => e.meta!.bases);
      for (const base of meta.bases) {
        if (!others.some((o) => o.pool === base.pool && o.name === base.name)) await this.storage.remove(base.pool, base.name);
      }
    }
  }

  async adopt(uid: string, hypervisorId: string, ctx: OperationContext): Promise<ObservedVM> {
    return guarded(`adopt domain ${hypervisorId} as VM ${uid}`, async () => {
      const dom = await this.domainById(hypervisorId);
      if (!dom) throw new PermanentError(`expected a domain ${hypervisorId} to adopt on ${this.opts.uri.display}, found none`, { reason: 'AdoptTargetNotFound' });
      const facts = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE }));
      const meta = facts.metadata;
      if (meta && meta.uid !== uid) {
        throw new PermanentError(`domain ${dom.name} is already managed as VM ${meta.uid}; refusing to adopt it as ${uid}`, { reason: 'AlreadyManaged' });
      }
      const generation = ctx.generation !== undefined && ctx.generation > (meta?.generation ?? 0n) ? ctx.generation : meta?.generation ?? 0n;
      await this.writeMetadata(dom, { uid, generation, adopted: true, volumes: meta?.volumes ?? [], bases: meta?.bases ?? [] });
      this.log.info('domain adopted', { uid, domain: dom.name });
      return this.observed(dom);
    });
  }

  async release(vm: ObservedVM, _ctx: OperationContext): Promise<void> {
    await guarded(`release VM ${vm.id}`, async () => {
      const dom = await this.domainById(vm.id);
      if (!dom) return;
      await this.writeMetadata(dom, undefined);
      this.log.info('domain released', { domain: dom.name });
    });
  }

  async recordGeneration(vm: ObservedVM, generation: bigint, _ctx: OperationContext): Promise<ObservedVM> {
    return guarded(`record generation ${generation} on VM ${vm.id}`, async () => {
      const dom = await this.requireDomain(vm);
      const facts = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom, flags: DOMAIN_XML_INACTIVE }));
      const meta = facts.metadata;
      if (!meta) throw new TransientError(`domain ${dom.name} lost its virtrigaud metadata`, { reason: 'VMVanished' });
      if (generation > meta.generation) await this.writeMetadata(dom, { ...meta, generation });
      return create(ObservedVMSchema, { ...vm, appliedGeneration: generation > meta.generation ? generation : meta.generation });
    });
  }

  // --- Driver: snapshots ---

  async snapshotCreate(vm: ObservedVM, req: SnapshotCreate, ctx: OperationContext): Promise<SnapshotInfo> {
    return guarded(`snapshot VM ${vm.id}`, async () => {
      const dom = await this.requireDomain(vm);
      ctx.progress(10, 'taking the snapshot');
      return createSnapshot(this.conn, dom, req, await this.isActive(dom));
    });
  }

  async snapshotRevert(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<ObservedVM> {
    return guarded(`revert VM ${vm.id} to snapshot ${snapshotId}`, async () => {
      const dom = await this.requireDomain(vm);
      const snap = await lookupSnapshot(this.conn, dom, snapshotId);
      if (!snap) throw new PermanentError(`expected snapshot ${snapshotId} on VM ${vm.id}, found none`, { reason: 'SnapshotNotFound' });
      ctx.progress(10, 'reverting');
      await this.conn.call(P.domainRevertToSnapshot, { snap, flags: 0 });
      return this.observed(dom);
    });
  }

  async snapshotDelete(vm: ObservedVM, snapshotId: string, _ctx: OperationContext): Promise<void> {
    await guarded(`delete snapshot ${snapshotId} of VM ${vm.id}`, async () => {
      const dom = await this.requireDomain(vm);
      const snap = await lookupSnapshot(this.conn, dom, snapshotId);
      if (!snap) return;
      try {
        await this.conn.call(P.domainSnapshotDelete, { snap, flags: 0 });
      } catch (err) {
        if (!isLibvirtCode(err, ErrorCode.NoDomainSnapshot)) throw err;
      }
    });
  }

  // --- Driver: clone ---

  async clone(source: ObservedVM, targetUid: string, linked: boolean, target: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    return guarded(`clone VM ${source.id} as ${targetUid}`, async () => {
      const existing = await this.findObservation(targetUid);
      if (existing) return existing.vm;
      const src = await this.requireDomain(source);
      if (await this.isActive(src)) {
        throw new PermanentError(`VM ${source.id} is running; power it off to clone it (its disks must not change while they are copied or shared)`, { reason: 'SourceRunning' });
      }
      const config = readDomainXml(await this.conn.call(P.domainGetXmlDesc, { dom: src, flags: DOMAIN_XML_INACTIVE | DOMAIN_XML_SECURE }));
      const srcMeta = config.metadata;
      const volumes: VolumeName[] = [];
      const bases: VolumeName[] = [];
      const newPaths = new Map<string, string>();
      const sourceRepoint = new Map<string, string>();
      const sourceBases: VolumeName[] = [];
      const sourceVolumes: VolumeName[] = [];
      for (const disk of config.disks) {
        if (disk.device !== 'disk' || !disk.file || disk.readonly) continue;
        const vol = await this.storage.volumeAt(disk.file);
        if (!vol) throw new PermanentError(`disk ${disk.target} of VM ${source.id} (${disk.file}) is in no storage pool; it cannot be cloned`, { reason: 'CloneUnsupportedDisk' });
        const facts = await this.storage.facts(vol);
        const format = (disk.format === 'raw' ? 'raw' : 'qcow2') as 'raw' | 'qcow2';
        const name = `${volumeNameFor(targetUid, disk.target)}.${linked ? 'qcow2' : format === 'raw' ? 'img' : 'qcow2'}`;
        ctx.progress(20, `${linked ? 'linking' : 'copying'} disk ${disk.target}`);
        if (linked) {
          // The source's disk becomes a frozen base shared by the source and the clone, each writing to its own overlay.
          const overlay = { name, format: 'qcow2' as const, capacityBytes: facts.capacityBytes, backing: { path: facts.path, format } };
          const cloneVol = (await this.storage.create(vol.pool, overlay)).vol;
          const srcOverlayName = `${volumeNameFor(srcMeta?.uid ?? src.name, `${disk.target}-base-${targetUid.slice(0, 8)}`)}.qcow2`;
          const srcOverlay = (await this.storage.create(vol.pool, { ...overlay, name: srcOverlayName })).vol;
          newPaths.set(disk.file, await this.storage.path(cloneVol));
          sourceRepoint.set(disk.file, await this.storage.path(srcOverlay));
          const base = { pool: vol.pool, name: vol.name };
          bases.push(base);
          sourceBases.push(base);
          sourceVolumes.push({ pool: vol.pool, name: srcOverlayName });
        } else {
          const copy = await this.storage.copy(vol.pool, { name, format, capacityBytes: facts.capacityBytes }, vol);
          newPaths.set(disk.file, await this.storage.path(copy));
        }
        volumes.push({ pool: vol.pool, name });
      }
      if (linked && sourceRepoint.size) {
        await this.redefine(src, (root) => {
          for (const d of children(child(root, 'devices'), 'disk')) {
            const s = child(d, 'source');
            const to = s?.attrs.file ? sourceRepoint.get(s.attrs.file) : undefined;
            if (s && to) {
              s.attrs.file = to;
              const drv = child(d, 'driver');
              if (drv) drv.attrs.type = 'qcow2';
            }
          }
          if (srcMeta) replaceMetadata(root, {
            ...srcMeta,
            volumes: [...srcMeta.volumes.filter((v) => !sourceBases.some((b) => b.pool === v.pool && b.name === v.name)), ...sourceVolumes],
            bases: [...srcMeta.bases, ...sourceBases],
          });
        });
        if (srcMeta) this.index.set(src, { ...srcMeta, bases: [...srcMeta.bases, ...sourceBases] });
      }
      const meta: VrMetadata = { uid: targetUid, generation: ctx.generation ?? 0n, adopted: false, volumes, bases };
      const root = cloneDefinition(config.root, {
        name: domainNameFor(targetUid),
        uuid: UUID_RE.test(targetUid) ? targetUid.toLowerCase() : randomUUID(),
        newPaths,
        macs: (i) => macFor(targetUid, i),
        meta,
        cpus: target.class?.cpus || undefined,
        memoryKiB: target.class?.memoryMib ? target.class.memoryMib * 1024n : undefined,
      });
      if (hasCloudInit(target.cloudInit)) {
        const nics = this.nicsFor(targetUid, target.networks);
        const seed = await this.writeSeed(targetUid, target.cloudInit, target.networks, nics, this.poolFor(target));
        const used = new Set(children(child(root, 'devices'), 'disk').map((d) => child(d, 'target')?.attrs.dev));
        let i = 0;
        while (used.has(diskTarget(i))) i++;
        child(root, 'devices')?.children.push(diskElement({ path: seed.path, format: 'raw', target: diskTarget(i), readonly: true, serial: 'cidata' }));
        meta.volumes.push(seed.volume);
        replaceMetadata(root, meta);
      }
      ctx.progress(80, 'defining the clone');
      const dom = await this.conn.call(P.domainDefineXml, { xml: toXml(root) });
      this.index.set(dom, meta);
      this.log.info('domain cloned', { source: source.id, uid: targetUid, linked });
      return this.observed(dom);
    });
  }

  // --- events ---

  watch(onChange: (uid: string, vm: ObservedVM | undefined) => void): () => void {
    const timers = new Map<string, NodeJS.Timeout>();
    const off = this.index.onChange((uid) => {
      if (!uid) return;
      // Coalesce a burst (define + start + metadata) into one observation.
      clearTimeout(timers.get(uid));
      timers.set(uid, setTimeout(() => {
        timers.delete(uid);
        this.find(uid).then((vm) => onChange(uid, vm), (err) => this.log.debug('watch: observing after an event failed', { uid, err }));
      }, 50));
    });
    return () => {
      off();
      for (const t of timers.values()) clearTimeout(t);
    };
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}
