/**
 * The vSphere driver: VMs on vCenter through the vim25 SOAP API (and the Automation REST API for
 * tags and the content library), on the shared agent runtime.
 *
 * - Identity: the object's uid in extraConfig `virtrigaud.uid`, next to `virtrigaud.generation`,
 *   set in the CloneVM_Task's config (so at creation). The VM is named `virtrigaud-<uid>`, so even a
 *   vCenter that ignored the clone's config (vcsim 0.46 does) is found again and finished, never
 *   cloned twice.
 * - Reads come from the inventory (one property collector, WaitForUpdatesEx); nothing is polled.
 *   ManagedObjectNotFound is the only "gone"; every other failure is a TransientError or
 *   PermanentError naming what failed (soap/faults.ts).
 * - Tasks report progress into the operation context from the same collector.
 * - Extras beyond the Driver interface: `reboot` (RebootGuest, else reset) and `consoleTicket`
 *   (a one-time WebMKS URL from AcquireTicket).
 */
import type { DesiredVM, ObservedVM, SnapshotCreate, SnapshotInfo } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Driver, OperationContext, ReconfigureResult } from '../core/driver.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { guestinfoFor, plannedMacs } from './cloud-init.ts';
import { planDisks } from './disks.ts';
import { classExtraConfig, hardwareDelta, hardwareForCreate } from './hardware.ts';
import { ImageResolver } from './images.ts';
import { planNics } from './nics.ts';
import { describeSnapshot, snapshotUidOf, toObserved, toSnapshotInfo } from './observe.ts';
import { RestClient, restToAgentError } from './rest.ts';
import { decodeMoRef, ref, VimClient, type MoRef } from './soap/client.ts';
import { isFault, isNotFound, toAgentError, VimFault } from './soap/faults.ts';
import { HttpTransport, type TlsSettings } from './soap/transport.ts';
import { child, textOf, type XmlInObject, type XmlNode } from './soap/xml.ts';
import { VmInventory } from './vim/inventory.ts';
import { InventoryLookup } from './vim/lookup.ts';
import { NetworkResolver } from './vim/networks.ts';
import { resolvePlacement, type ResolvedPlacement } from './vim/placement.ts';
import { cloneSpec, configSpec, isEmptyConfigSpec, relocateSpec, type ConfigSpecFields, type NicBacking } from './vim/spec.ts';
import { TaskWaiter } from './vim/tasks.ts';
import { GENERATION_KEY, generationOf, TAGS_KEY, UID_KEY, uidOf, type VmRecord } from './vim/vm-record.ts';

/** Feature names (api/capabilities.ts) this driver implements on vSphere. */
export const VSPHERE_CAPABILITIES = [
  'secureBoot', 'tpm', 'nestedVirtualization', 'cpuHotAdd', 'memoryHotAdd', 'gpu', 'memorySnapshots', 'linkedClones', 'onlineDiskExpansion',
];

export interface VSphereDriverOptions {
  url: URL;
  username: string;
  password: string;
  tls: TlsSettings;
  keepaliveMs?: number;
  log?: Logger;
}

const VM = (id: string): MoRef => ({ type: 'VirtualMachine', value: id });

/** The WebMKS URL of a VirtualMachineTicket: its `url` (vSphere 7+), else built from host, port and ticket. */
export function consoleUrlFromTicket(ticket: XmlNode | undefined, fallbackHost: string): string {
  const value = textOf(child(ticket, 'ticket'));
  if (!value) throw new TransientError('AcquireTicket returned no ticket', { reason: 'MalformedReply' });
  const url = textOf(child(ticket, 'url'));
  if (url) return url;
  const host = textOf(child(ticket, 'host')) || fallbackHost;
  const port = textOf(child(ticket, 'port')) || '443';
  return `wss://${host}:${port}/ticket/${encodeURIComponent(value)}`;
}
export const vmNameFor = (uid: string) => `virtrigaud-${uid}`;
const LINKED_CLONE_BASE = 'virtrigaud-linked-clone-base';

export class VSphereDriver implements Driver {
  readonly type = 'vsphere';
  readonly images: ImageResolver;
  private readonly lookup: InventoryLookup;
  private readonly networks: NetworkResolver;
  private restClient: RestClient | undefined;
  private readonly console: { origin: string; instanceUuid: string };
  private tagCache: { at: number; tags: Promise<{ id: string; name: string; category: string }[]> } | undefined;
  private readonly templateDetails = new Map<string, { at: number; rec: VmRecord }>();
  /** Clones that found vCenter ignored the clone spec's config (identity written afterwards). */
  configFixups = 0;

  private constructor(
    readonly client: VimClient,
    readonly inventory: VmInventory,
    readonly tasks: TaskWaiter,
    /** HTTPS to vCenter (SOAP, REST and NFC share its pools and TLS settings). */
    readonly transport: HttpTransport,
    private readonly opts: VSphereDriverOptions,
  ) {
    this.lookup = new InventoryLookup(client);
    this.networks = new NetworkResolver(this.lookup);
    this.console = { origin: opts.url.origin, instanceUuid: client.serviceContent.about.instanceUuid };
    this.images = new ImageResolver({
      client, inventory, tasks, lookup: this.lookup, rest: () => this.rest(), transport, tls: opts.tls, log: opts.log,
    });
  }

  /** Connects, logs in (one session) and loads the VM inventory. */
  static async open(opts: VSphereDriverOptions): Promise<VSphereDriver> {
    const transport = new HttpTransport(opts.url, opts.tls);
    let client: VimClient | undefined;
    try {
      client = await VimClient.connect({ url: opts.url, username: opts.username, password: opts.password, transport, keepaliveMs: opts.keepaliveMs, log: opts.log });
      // A VM copied outside VirtRigaud carries the uid too: the one we named is ours.
      const inventory = new VmInventory(client, opts.log, { preferred: (uid, found) => found.find((r) => r.name === vmNameFor(uid)) });
      try {
        await inventory.start();
      } catch (err) {
        await inventory.stop();
        throw err;
      }
      return new VSphereDriver(client, inventory, new TaskWaiter(client, inventory), transport, opts);
    } catch (err) {
      if (client) await client.close();
      else await transport.close();
      throw toAgentError(err, `connecting to vCenter ${opts.url.origin}`);
    }
  }

  /** The REST client, opened on first use (tags, content library). */
  rest(): RestClient {
    this.restClient ??= new RestClient(this.transport, this.opts.username, this.opts.password);
    return this.restClient;
  }

  private observed(rec: VmRecord): ObservedVM {
    return toObserved(rec, this.console);
  }

  /**
   * The VM as the inventory knows it (no call when it does): enough to decide an idempotent
   * operation. A VM gone meanwhile is a retryable surprise, never "deleted".
   */
  private async current(vm: MoRef, ctx: { signal: AbortSignal }, what: string): Promise<VmRecord> {
    const rec = this.inventory.get(vm) ?? (await this.inventory.observe(vm, ctx.signal));
    if (!rec) throw new TransientError(`expected VM ${vm.value} on vCenter for ${what}, it is gone`, { reason: 'VMVanished' });
    return rec;
  }

  /** The VM read once with its devices: before an operation that needs them, or after one that changed it. */
  private async detailed(vm: MoRef, ctx: { signal: AbortSignal }, what: string): Promise<VmRecord> {
    const rec = await this.inventory.refresh(vm, ctx.signal);
    if (!rec) throw new TransientError(`expected VM ${vm.value} on vCenter for ${what}, it is gone`, { reason: 'VMVanished' });
    return rec;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Error && (err.name === 'AbortError' || err.name === 'ShutdownError' || err.name === 'LeaseLostError')) throw err;
      throw toAgentError(err, what);
    }
  }

  private reconfigTask(vm: MoRef, fields: ConfigSpecFields, what: string, ctx: OperationContext) {
    return this.tasks.run('ReconfigVM_Task', { _this: ref(vm), spec: configSpec(fields) }, what, ctx);
  }

  // --- Driver ---

  async capabilities(): Promise<string[]> {
    return VSPHERE_CAPABILITIES;
  }

  async validate(): Promise<{ version: string }> {
    return this.guard(`checking vCenter ${this.opts.url.origin}`, async () => {
      await this.client.call('CurrentTime', { _this: ref({ type: 'ServiceInstance', value: 'ServiceInstance' }) });
      return { version: this.client.serviceContent.about.fullName };
    });
  }

  async find(uid: string): Promise<ObservedVM | undefined> {
    return this.guard(`looking up the VM with uid ${uid}`, async () => {
      const rec = await this.inventory.findByUid(uid);
      return rec ? this.observed(rec) : undefined;
    });
  }

  async create(uid: string, desired: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`creating the VM for uid ${uid}`, async () => {
      const existing = await this.inventory.findByUid(uid, ctx.signal);
      if (existing) return this.observed(existing);
      const place = await resolvePlacement(this.lookup, this.client.serviceContent.rootFolder, desired.placement);
      ctx.progress(2, 'placement resolved');
      const template = await this.images.templateFor(desired.image, place, ctx);
      const rec = await this.cloneFrom(template, uid, desired, place, { linked: false }, ctx);
      return this.observed(rec);
    });
  }

  /**
   * Clones `source` into a VM carrying `uid`: finds a half-made one by name first, places it,
   * sets hardware, devices, identity and guestinfo in the clone spec, and writes identity
   * afterwards when vCenter ignored the spec's config.
   */
  private async cloneFrom(source: MoRef, uid: string, desired: DesiredVM, place: ResolvedPlacement,
    opts: { linked: boolean }, ctx: OperationContext): Promise<VmRecord> {
    const name = vmNameFor(uid);
    const generation = (ctx.generation ?? 0n).toString();
    const sourceRec = await this.sourceDetails(source, ctx);

    const macs = plannedMacs(uid, desired.networks);
    const backings = await this.backings(place, desired);
    let nextKey = -100;
    const key = () => nextKey--;
    const nics = planNics(sourceRec.devices, desired.networks, backings, macs, key);
    const datastoreByName = await this.datastoreMap(place, desired);
    const disks = planDisks({
      devices: sourceRec.devices, extraConfig: new Map(), desired: desired.disks, defaultType: desired.class?.diskType ?? '',
      poweredOn: false, datastoreOf: (n) => datastoreByName.get(n), nextKey: key,
    });
    const extraDevices = this.extraDevices(desired, key);
    const extraConfig: [string, string][] = [
      [UID_KEY, uid], [GENERATION_KEY, generation],
      ...classExtraConfig(desired.class),
      ...disks.extraConfig,
      ...guestinfoFor(uid, desired.cloudInit, desired.networks, macs),
    ];
    const hardware = hardwareForCreate(desired.class);
    const config: ConfigSpecFields = { ...hardware, extraConfig, deviceChange: [...nics.changes, ...disks.changes, ...extraDevices] };

    // A VM with our name and no uid is a clone whose identity was not written yet: finish it.
    const half = this.inventory.byName(name).find((r) => !r.template && (!uidOf(r) || uidOf(r) === uid));
    let vmRef: MoRef;
    if (half) {
      this.opts.log?.warn('found a VM from an interrupted create; finishing it', { vm: half.ref.value, uid });
      vmRef = half.ref;
    } else {
      let datastore = place.datastore;
      let snapshot: MoRef | undefined;
      if (opts.linked) snapshot = await this.linkedCloneBase(sourceRec, ctx);
      const location = (ds: MoRef | undefined) => relocateSpec({
        datastore: ds, pool: place.pool, host: place.host,
        diskMoveType: opts.linked ? 'createNewChildDiskBacking' : undefined,
      });
      const spec = (ds: MoRef | undefined) => cloneSpec({ location: location(ds), template: false, config: configSpec(config), powerOn: false, snapshot });
      if (!datastore && place.storagePod) datastore = await this.recommendDatastore(place, source, name, spec(undefined), ctx);
      ctx.progress(5, `cloning ${sourceRec.name} into ${name}`);
      try {
        const out = await this.tasks.run('CloneVM_Task', { _this: ref(source), folder: ref(place.folder), name, spec: spec(datastore) }, `cloning ${sourceRec.name} into ${name}`, ctx);
        vmRef = decodeMoRef(out.result, 'CloneVM_Task result');
      } catch (err) {
        // A folder, pool, datastore or template we looked up is gone: look again next time.
        if (isNotFound(err)) {
          this.lookup.invalidate();
          this.templateDetails.clear();
        }
        // A clone of ours that raced this one (or finished after a lost answer): take it.
        if (isFault(err, 'DuplicateName')) {
          await this.inventory.sync(ctx.signal);
          const again = this.inventory.byName(name).find((r) => !r.template && (!uidOf(r) || uidOf(r) === uid));
          if (!again) throw err;
          vmRef = again.ref;
        } else {
          throw err;
        }
      }
    }
    let rec = await this.detailed(vmRef, ctx, 'the clone');
    if (uidOf(rec) !== uid) {
      // vCenter did not apply the clone's config (vcsim 0.46 ignores it): write it now, devices excepted.
      this.configFixups++;
      await this.reconfigTask(vmRef, { ...hardware, extraConfig }, `writing the identity of ${name}`, ctx);
      rec = await this.detailed(vmRef, ctx, 'writing its identity');
    }
    return rec;
  }

  /** A clone source with its devices: a template's are kept for a minute (templates rarely change). */
  private async sourceDetails(source: MoRef, ctx: OperationContext): Promise<VmRecord> {
    const cached = this.templateDetails.get(source.value);
    if (cached && Date.now() - cached.at < 60_000) return cached.rec;
    const rec = await this.detailed(source, ctx, 'reading the clone source');
    if (rec.template) this.templateDetails.set(source.value, { at: Date.now(), rec: { ...rec, devices: [...rec.devices] } });
    return rec;
  }

  /** vTPM and vGPU devices the class asks for (new VMs only). */
  private extraDevices(desired: DesiredVM, key: () => number): XmlInObject[] {
    const out: XmlInObject[] = [];
    if (desired.class?.tpm) out.push({ operation: 'add', device: { '@_xsi:type': 'VirtualTPM', key: key() } });
    for (const gpu of desired.class?.gpus ?? []) {
      if (!gpu.model) throw new PermanentError('a GPU needs a model (the vGPU profile, e.g. grid_a100-4c)', { reason: 'InvalidSpec' });
      for (let i = 0; i < Math.max(1, gpu.count); i++) {
        out.push({
          operation: 'add',
          device: {
            '@_xsi:type': 'VirtualPCIPassthrough',
            key: key(),
            backing: { '@_xsi:type': 'VirtualPCIPassthroughVmiopBackingInfo', vgpu: gpu.model },
          },
        });
      }
    }
    return out;
  }

  private async backings(place: ResolvedPlacement, desired: DesiredVM): Promise<(NicBacking | undefined)[]> {
    const out: (NicBacking | undefined)[] = [];
    for (const n of desired.networks) out.push(await this.networks.backingFor(place.datacenter, n));
    return out;
  }

  private async datastoreMap(place: ResolvedPlacement, desired: DesiredVM): Promise<Map<string, MoRef>> {
    const map = new Map<string, MoRef>();
    for (const d of desired.disks) {
      if (d.storage && !map.has(d.storage)) {
        map.set(d.storage, await this.lookup.uniqueByName(place.datacenter.datastoreFolder, ['Datastore'], d.storage, `disk ${d.name} storage (datastore)`));
      }
    }
    return map;
  }

  /** Storage DRS's datastore for a clone into a datastore cluster (RecommendDatastores). */
  private async recommendDatastore(place: ResolvedPlacement, source: MoRef, name: string, spec: XmlInObject, ctx: OperationContext): Promise<MoRef> {
    const srm = this.client.serviceContent.storageResourceManager;
    if (!srm) throw new PermanentError('this vCenter has no StorageResourceManager for datastore clusters', { reason: 'NotSupported' });
    const [result] = await this.client.call('RecommendDatastores', {
      _this: ref(srm),
      storageSpec: {
        type: 'clone',
        vm: ref(source),
        podSelectionSpec: { initialVmConfig: [{ storagePod: ref(place.storagePod!) }], storagePod: ref(place.storagePod!) },
        cloneSpec: spec,
        cloneName: name,
        resourcePool: ref(place.pool),
        folder: ref(place.folder),
      },
    }, { signal: ctx.signal });
    const dest = child(child(child(result, 'recommendations'), 'action'), 'destination');
    if (dest === undefined) throw new PermanentError(`Storage DRS recommended no datastore in the datastore cluster for ${name}`, { reason: 'NoDatastoreRecommended' });
    return decodeMoRef(dest, 'StoragePlacementAction.destination');
  }

  /** The snapshot a linked clone shares disks with: the current one, else one made for it. */
  private async linkedCloneBase(source: VmRecord, ctx: OperationContext): Promise<MoRef> {
    if (source.currentSnapshot) return source.currentSnapshot;
    const base = source.snapshots.find((s) => s.name === LINKED_CLONE_BASE);
    if (base) return base.ref;
    const out = await this.tasks.run('CreateSnapshot_Task', {
      _this: ref(source.ref), name: LINKED_CLONE_BASE, description: 'base of linked clones made by virtrigaud', memory: false, quiesce: false,
    }, `snapshotting ${source.name} for linked clones`, ctx);
    return decodeMoRef(out.result, 'CreateSnapshot_Task result');
  }

  async reconfigure(vm: ObservedVM, desired: DesiredVM, ctx: OperationContext): Promise<ReconfigureResult> {
    return this.guard(`reconfiguring VM ${vm.id}`, async () => {
      const rec = await this.detailed(VM(vm.id), ctx, 'reconfigure');
      const hw = hardwareDelta(rec, desired.class);
      const poweredOn = rec.powerState === 'poweredOn';
      let nextKey = -100;
      const key = () => nextKey--;
      let place: ResolvedPlacement | undefined;
      const placement = async () => (place ??= await resolvePlacement(this.lookup, this.client.serviceContent.rootFolder, desired.placement));
      const nicChanges = desired.networks.length
        ? planNics(rec.devices, desired.networks, await this.backings(await placement(), desired), plannedMacs(uidOf(rec) ?? vm.id, desired.networks), key).changes
        : [];
      const datastores = desired.disks.some((d) => d.storage) ? await this.datastoreMap(await placement(), desired) : new Map<string, MoRef>();
      const disks = planDisks({
        devices: rec.devices, extraConfig: rec.extraConfig, desired: desired.disks, defaultType: desired.class?.diskType ?? '',
        poweredOn, datastoreOf: (n) => datastores.get(n), nextKey: key,
      });
      const classExtra = classExtraConfig(desired.class).filter(([k, v]) => rec.extraConfig.get(k) !== v);
      const tagsRecord = await this.syncTags(rec, desired.tags);
      const fields: ConfigSpecFields = {
        ...hw.fields,
        deviceChange: [...nicChanges, ...disks.changes],
        extraConfig: [...disks.extraConfig, ...classExtra, ...(tagsRecord ? [tagsRecord] : [])],
      };
      let after = rec;
      if (!isEmptyConfigSpec(fields)) {
        await this.reconfigTask(rec.ref, fields, `reconfiguring ${rec.name}`, ctx);
        after = await this.detailed(rec.ref, ctx, 'reconfigure');
      }
      return { vm: this.observed(after), restartRequired: [...hw.deferred, ...disks.deferred] };
    });
  }

  /** Attaches the desired tags (`category:name` or a unique `name`); detaches only tags we attached. Returns the record to store. */
  private async syncTags(rec: VmRecord, desired: readonly string[]): Promise<[string, string] | undefined> {
    const managed = (rec.extraConfig.get(TAGS_KEY) ?? '').split('\n').filter(Boolean);
    if (!desired.length && !managed.length) return undefined;
    const rest = this.rest();
    try {
      const all = await this.allTags();
      const idOf = (want: string): string => {
        const [cat, name] = want.includes(':') ? [want.slice(0, want.indexOf(':')), want.slice(want.indexOf(':') + 1)] : [undefined, want];
        const hits = all.filter((t) => t.name === name && (cat === undefined || t.category === cat));
        if (hits.length !== 1) {
          this.tagCache = undefined;
          throw new PermanentError(hits.length ? `tag "${want}" is ambiguous; write it as category:name` : `tag "${want}" does not exist in vCenter`, { reason: 'TagNotFound' });
        }
        return hits[0]!.id;
      };
      const want = new Map(desired.map((t) => [idOf(t), t]));
      const attached = new Set(await rest.attachedTags(rec.ref));
      for (const id of want.keys()) if (!attached.has(id)) await rest.attachTag(id, rec.ref);
      for (const t of managed) {
        if (desired.includes(t)) continue;
        const id = all.find((x) => `${x.category}:${x.name}` === t || x.name === t)?.id;
        if (id && attached.has(id)) await rest.detachTag(id, rec.ref);
      }
      const record = [...desired].sort().join('\n');
      return record === [...managed].sort().join('\n') ? undefined : [TAGS_KEY, record];
    } catch (err) {
      throw restToAgentError(err, `tagging VM ${rec.name}`);
    }
  }

  private async allTags(): Promise<{ id: string; name: string; category: string }[]> {
    if (!this.tagCache || Date.now() - this.tagCache.at > 60_000) {
      const tags = (async () => {
        const rest = this.rest();
        const list = await rest.listTags();
        const cats = new Map<string, string>();
        for (const t of list) if (!cats.has(t.categoryId)) cats.set(t.categoryId, await rest.categoryName(t.categoryId));
        return list.map((t) => ({ id: t.id, name: t.name, category: cats.get(t.categoryId) ?? '' }));
      })();
      this.tagCache = { at: Date.now(), tags };
      tags.catch(() => { this.tagCache = undefined; });
    }
    return this.tagCache.tags;
  }

  async setPower(vm: ObservedVM, state: PowerState, gracefulTimeoutSeconds: number, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`changing the power of VM ${vm.id}`, async () => {
      // Read, not the index: a pushed update older than our last read can still be on its way
      // (seen: the index said poweredOff right after a power-on, and a graceful stop was skipped).
      const rec = await this.detailed(VM(vm.id), ctx, 'power');
      const on = rec.powerState === 'poweredOn';
      if (state === PowerState.UNSPECIFIED) return this.observed(rec);
      if (state === PowerState.ON) {
        if (!on) await this.powerTask('PowerOnVM_Task', rec, `powering on ${rec.name}`, ctx);
      } else if (rec.powerState !== 'poweredOff') {
        if (state === PowerState.OFF_GRACEFUL && on) await this.shutdownGuest(rec, gracefulTimeoutSeconds, ctx);
        const now = await this.detailed(rec.ref, ctx, 'shutdown');
        if (now.powerState !== 'poweredOff') await this.powerTask('PowerOffVM_Task', now, `powering off ${rec.name}`, ctx);
      }
      return this.observed(await this.detailed(rec.ref, ctx, 'power'));
    });
  }

  /** A power task; InvalidPowerState means someone else got there first, which is fine. */
  private async powerTask(method: 'PowerOnVM_Task' | 'PowerOffVM_Task' | 'ResetVM_Task', rec: VmRecord, what: string, ctx: OperationContext): Promise<void> {
    try {
      await this.tasks.run(method, { _this: ref(rec.ref) }, what, ctx);
    } catch (err) {
      if (!isFault(err, 'InvalidPowerState')) throw err;
    }
  }

  /**
   * Asks the guest to shut down, then waits (pushed updates) for it to be off. The timeout bounds
   * the whole attempt, the request included: a vCenter slow to answer ShutdownGuest gets no longer.
   */
  private async shutdownGuest(rec: VmRecord, timeoutS: number, ctx: OperationContext): Promise<void> {
    const deadline = Date.now() + (timeoutS || 60) * 1000;
    try {
      const bounded = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]);
      await this.client.call('ShutdownGuest', { _this: ref(rec.ref) }, { signal: bounded });
    } catch (err) {
      ctx.signal.throwIfAborted();
      if (isFault(err, 'ToolsUnavailable', 'InvalidState', 'NotSupported', 'InvalidPowerState')) {
        this.opts.log?.info('guest shutdown not possible; powering off', { vm: rec.ref.value, fault: (err as VimFault).faultName });
        return;
      }
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        this.opts.log?.info('guest shutdown request not answered in time; powering off', { vm: rec.ref.value, timeoutS });
        return;
      }
      throw err;
    }
    ctx.progress(10, `waiting up to ${timeoutS || 60}s for ${rec.name} to shut down`);
    const off = await this.inventory.waitFor(rec.ref, (r) => r.powerState === 'poweredOff', Math.max(0, deadline - Date.now()), ctx.signal);
    if (!off) this.opts.log?.info('guest did not shut down in time; powering off', { vm: rec.ref.value, timeoutS });
  }

  /** Restarts the guest (RebootGuest), or resets the VM when the guest cannot be asked. */
  async reboot(vm: ObservedVM, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`rebooting VM ${vm.id}`, async () => {
      const rec = await this.current(VM(vm.id), ctx, 'reboot');
      if (rec.powerState !== 'poweredOn') throw new PermanentError(`VM ${rec.name} is ${rec.powerState}; only a running VM reboots`, { reason: 'InvalidPowerState' });
      try {
        await this.client.call('RebootGuest', { _this: ref(rec.ref) }, { signal: ctx.signal });
      } catch (err) {
        if (!isFault(err, 'ToolsUnavailable', 'InvalidState', 'NotSupported')) throw err;
        await this.powerTask('ResetVM_Task', rec, `resetting ${rec.name}`, ctx);
      }
      return this.observed(await this.detailed(rec.ref, ctx, 'reboot'));
    });
  }

  /** A web-console (WebMKS) URL with a fresh one-time ticket (AcquireTicket). */
  async consoleTicket(vm: ObservedVM, signal?: AbortSignal): Promise<string> {
    return this.guard(`acquiring a console ticket for VM ${vm.id}`, async () => {
      const [t] = await this.client.call('AcquireTicket', { _this: ref(VM(vm.id)), ticketType: 'webmks' }, { signal });
      return consoleUrlFromTicket(t, this.opts.url.hostname);
    });
  }

  async destroy(vm: ObservedVM, ctx: OperationContext): Promise<void> {
    await this.guard(`destroying VM ${vm.id}`, async () => {
      const rec = await this.inventory.observe(VM(vm.id), ctx.signal);
      if (!rec) return;
      if (rec.powerState !== 'poweredOff') await this.powerTask('PowerOffVM_Task', rec, `powering off ${rec.name} to destroy it`, ctx);
      try {
        await this.tasks.run('Destroy_Task', { _this: ref(rec.ref) }, `destroying ${rec.name}`, ctx);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      // Destroy_Task succeeded: the VM is gone, whenever the collector's report of it arrives.
      this.inventory.forget(rec.ref);
    });
  }

  async adopt(uid: string, hypervisorId: string, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`adopting VM ${hypervisorId}`, async () => {
      let target = /^vm-\d+$/.test(hypervisorId) ? await this.inventory.observe(VM(hypervisorId), ctx.signal) : undefined;
      if (!target) {
        await this.inventory.sync(ctx.signal);
        const named = this.inventory.byName(hypervisorId).filter((r) => !r.template);
        if (named.length > 1) throw new PermanentError(`VM name "${hypervisorId}" is ambiguous (${named.length} VMs); adopt it by its id (vm-N)`, { reason: 'AdoptTargetAmbiguous' });
        target = named[0];
      }
      if (!target) throw new PermanentError(`expected a VM with id or name ${hypervisorId} to adopt, found none`, { reason: 'AdoptTargetNotFound' });
      const holder = uidOf(target);
      if (holder === uid) return this.observed(target);
      if (holder) throw new PermanentError(`expected VM ${hypervisorId} to be unmanaged, it carries uid ${holder}`, { reason: 'AlreadyManaged' });
      const other = await this.inventory.findByUid(uid, ctx.signal);
      if (other) throw new PermanentError(`expected uid ${uid} on no VM, it is on ${other.ref.value}`, { reason: 'AlreadyManaged' });
      const gen = ctx.generation && ctx.generation > generationOf(target) ? ctx.generation : generationOf(target);
      await this.reconfigTask(target.ref, { extraConfig: [[UID_KEY, uid], [GENERATION_KEY, gen.toString()], ['virtrigaud.adopted', 'true']] }, `adopting ${target.name}`, ctx);
      return this.observed(await this.detailed(target.ref, ctx, 'adopt'));
    });
  }

  async release(vm: ObservedVM, ctx: OperationContext): Promise<void> {
    await this.guard(`releasing VM ${vm.id}`, async () => {
      const rec = await this.current(VM(vm.id), ctx, 'release');
      // An empty value removes an extraConfig key.
      await this.reconfigTask(rec.ref, { extraConfig: [[UID_KEY, ''], [GENERATION_KEY, ''], ['virtrigaud.adopted', '']] }, `releasing ${rec.name}`, ctx);
      await this.detailed(rec.ref, ctx, 'release');
    });
  }

  async snapshotCreate(vm: ObservedVM, req: SnapshotCreate, ctx: OperationContext): Promise<SnapshotInfo> {
    return this.guard(`snapshotting VM ${vm.id}`, async () => {
      const rec = await this.current(VM(vm.id), ctx, 'snapshot');
      const existing = req.snapshotUid ? rec.snapshots.find((s) => snapshotUidOf(s) === req.snapshotUid) : undefined;
      if (existing) return toSnapshotInfo(existing);
      const on = rec.powerState === 'poweredOn';
      const out = await this.tasks.run('CreateSnapshot_Task', {
        _this: ref(rec.ref),
        name: req.name || `virtrigaud-${req.snapshotUid || Date.now()}`,
        description: describeSnapshot(req.description, req.snapshotUid),
        memory: req.includeMemory && on,
        quiesce: req.quiesce && on && !req.includeMemory,
      }, `snapshotting ${rec.name}`, ctx);
      const snap = decodeMoRef(out.result, 'CreateSnapshot_Task result');
      const after = await this.detailed(rec.ref, ctx, 'snapshot');
      const node = after.snapshots.find((s) => s.ref.value === snap.value);
      if (!node) throw new TransientError(`snapshot ${snap.value} of ${rec.name} is not in the VM's snapshot tree yet`, { reason: 'SnapshotPending' });
      return toSnapshotInfo(node);
    });
  }

  async snapshotRevert(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`reverting VM ${vm.id} to snapshot ${snapshotId}`, async () => {
      const rec = await this.current(VM(vm.id), ctx, 'revert');
      if (!rec.snapshots.some((s) => s.ref.value === snapshotId)) {
        throw new PermanentError(`expected snapshot ${snapshotId} on VM ${rec.name}, found none`, { reason: 'SnapshotNotFound' });
      }
      await this.tasks.run('RevertToSnapshot_Task', { _this: ref({ type: 'VirtualMachineSnapshot', value: snapshotId }), suppressPowerOn: false }, `reverting ${rec.name}`, ctx);
      return this.observed(await this.detailed(rec.ref, ctx, 'revert'));
    });
  }

  async snapshotDelete(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<void> {
    await this.guard(`deleting snapshot ${snapshotId} of VM ${vm.id}`, async () => {
      try {
        await this.tasks.run('RemoveSnapshot_Task', { _this: ref({ type: 'VirtualMachineSnapshot', value: snapshotId }), removeChildren: false, consolidate: true }, `deleting snapshot ${snapshotId}`, ctx);
      } catch (err) {
        // The snapshot (not the VM) is gone already: what was asked.
        if (!isNotFound(err)) throw err;
      }
      await this.inventory.refresh(VM(vm.id), ctx.signal);
    });
  }

  async clone(source: ObservedVM, targetUid: string, linked: boolean, target: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`cloning VM ${source.id} for uid ${targetUid}`, async () => {
      const existing = await this.inventory.findByUid(targetUid, ctx.signal);
      if (existing) return this.observed(existing);
      const src = await this.current(VM(source.id), ctx, 'the clone source');
      const p = target.placement;
      const asked = p && (p.datacenter || p.cluster || p.host || p.resourcePool || p.folder || p.datastore || p.datastoreCluster);
      let place: ResolvedPlacement;
      if (asked) {
        place = await resolvePlacement(this.lookup, this.client.serviceContent.rootFolder, p);
      } else {
        // Next to the source.
        const base = await resolvePlacement(this.lookup, this.client.serviceContent.rootFolder, p);
        place = { ...base, folder: src.folder ?? base.folder, pool: src.resourcePool ?? base.pool };
      }
      return this.observed(await this.cloneFrom(src.ref, targetUid, target, place, { linked }, ctx));
    });
  }

  async recordGeneration(vm: ObservedVM, generation: bigint, ctx: OperationContext): Promise<ObservedVM> {
    return this.guard(`recording generation ${generation} on VM ${vm.id}`, async () => {
      const rec = await this.current(VM(vm.id), ctx, 'recording the generation');
      if (generationOf(rec) >= generation) return this.observed(rec);
      await this.reconfigTask(rec.ref, { extraConfig: [[GENERATION_KEY, generation.toString()]] }, `recording generation ${generation} on ${rec.name}`, ctx);
      return this.observed(await this.detailed(rec.ref, ctx, 'recording the generation'));
    });
  }

  /** Pushes changes of our VMs (power, IPs, size, snapshots) as the property collector reports them. */
  watch(onChange: (uid: string, vm: ObservedVM | undefined) => void): () => void {
    const last = new Map<string, string>();
    return this.inventory.onChange((uid, rec) => {
      if (!rec) {
        last.delete(uid);
        onChange(uid, undefined);
        return;
      }
      const vm = this.observed(rec);
      const sig = JSON.stringify([vm.id, vm.powerState, vm.ips, vm.cpus, vm.memoryMib.toString(), vm.snapshots.map((s) => s.id), vm.appliedGeneration.toString()]);
      if (last.get(uid) === sig) return;
      last.set(uid, sig);
      onChange(uid, vm);
    });
  }

  /** Calls and sessions so far (benchmark, tests). */
  stats(): { soapCalls: number; sessions: number; restCalls: number; restSessions: number; byMethod: Record<string, number> } {
    return {
      soapCalls: this.client.stats.calls,
      sessions: this.client.stats.sessionsOpened,
      restCalls: this.restClient?.stats.calls ?? 0,
      restSessions: this.restClient?.stats.sessionsOpened ?? 0,
      byMethod: Object.fromEntries(this.client.stats.byMethod),
    };
  }

  async close(): Promise<void> {
    await this.inventory.stop();
    await this.restClient?.close();
    await this.client.close();
  }
}

