/**
 * Where a new VM is cloned from. Every image becomes a VM template in the inventory, so every
 * create is one CloneVM_Task carrying the VM's uid (identity set atomically with creation):
 *   - a named template: looked up by name (or inventory path below the datacenter's `vm/`);
 *   - a content-library item: deployed once into a cached template (`virtrigaud-image-<hash>`);
 *   - an OVA/OVF URL: imported once (ImportVApp + NFC upload, ova.ts) into a cached template.
 * A cached template is found by name, so a crash half-way is finished, never duplicated.
 */
import { createHash } from 'node:crypto';
import type { ImageSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { OperationContext } from '../core/driver.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { importOvf } from './ova.ts';
import { restToAgentError, type RestClient } from './rest.ts';
import { ref, type MoRef, type VimClient } from './soap/client.ts';
import { isFault } from './soap/faults.ts';
import type { HttpTransport, TlsSettings } from './soap/transport.ts';
import type { VmInventory } from './vim/inventory.ts';
import type { InventoryLookup } from './vim/lookup.ts';
import type { ResolvedPlacement } from './vim/placement.ts';
import type { TaskWaiter } from './vim/tasks.ts';
import type { VmRecord } from './vim/vm-record.ts';

export interface ImageDeps {
  client: VimClient;
  inventory: VmInventory;
  tasks: TaskWaiter;
  lookup: InventoryLookup;
  rest: () => RestClient;
  transport: HttpTransport;
  tls: TlsSettings;
  log?: Logger;
}

export function cachedTemplateName(sourceKey: string): string {
  return `virtrigaud-image-${createHash('sha256').update(sourceKey).digest('hex').slice(0, 16)}`;
}

export class ImageResolver {
  private readonly inFlight = new Map<string, Promise<MoRef>>();

  constructor(private readonly deps: ImageDeps) {}

  /** The template to clone for `image`, created first for library items and OVA/OVF URLs. */
  async templateFor(image: ImageSpec | undefined, place: ResolvedPlacement, ctx: OperationContext): Promise<MoRef> {
    const src = image?.source;
    switch (src?.case) {
      case 'vsphereTemplate': {
        const t = src.value;
        if (t.contentLibrary || t.contentLibraryItem) {
          const item = t.contentLibraryItem || t.templateName;
          if (!t.contentLibrary || !item) {
            throw new PermanentError('a content-library image needs both contentLibrary and contentLibraryItem (or templateName)', { reason: 'InvalidSpec' });
          }
          return this.once(`cl:${t.contentLibrary}/${item}`, () => this.fromLibrary(t.contentLibrary, item, place, ctx));
        }
        if (!t.templateName) throw new PermanentError('the vSphere image names no template', { reason: 'InvalidSpec' });
        return this.named(t.templateName, place);
      }
      case 'url': {
        const u = src.value;
        const format = (u.format || u.url.split('?')[0]!.split('.').pop() || '').toLowerCase();
        if (format !== 'ova' && format !== 'ovf') {
          throw new PermanentError(`the vSphere agent imports OVA and OVF images, not ${format || 'an unknown format'} (${u.url})`, { reason: 'UnsupportedImageFormat' });
        }
        const name = cachedTemplateName(`url:${u.url}#${u.checksum}`);
        return this.once(name, async () => {
          const found = await this.existingCached(name, ctx);
          if (found) return found;
          const datastore = u.storage
            ? await this.deps.lookup.uniqueByName(place.datacenter.datastoreFolder, ['Datastore'], u.storage, 'image storage (datastore)')
            : place.datastore ?? (await this.firstDatastore(place));
          const vm = await importOvf(this.deps, { url: u.url, format, checksum: u.checksum, checksumType: u.checksumType, name, place, datastore }, ctx);
          return this.markTemplate(vm, ctx);
        });
      }
      case 'existingDisk':
        throw new PermanentError('the vSphere agent cannot create a VM from an existing disk yet; use a template, a content-library item or an OVA', { reason: 'UnsupportedImage' });
      default:
        throw new PermanentError('the VM has no image: expected a vSphere template, a content-library item or an OVA/OVF URL', { reason: 'InvalidSpec' });
    }
  }

  /** One preparation per image at a time in this agent; a failure is not remembered. */
  private once(key: string, make: () => Promise<MoRef>): Promise<MoRef> {
    let p = this.inFlight.get(key);
    if (!p) {
      p = make().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async named(name: string, place: ResolvedPlacement): Promise<MoRef> {
    if (name.includes('/')) {
      const path = `${place.datacenter.path}/vm/${name.replace(/^\/+/, '')}`;
      const found = await this.deps.lookup.byPath(path);
      if (!found || found.type !== 'VirtualMachine') throw new PermanentError(`template "${name}" not found (inventory path ${path})`, { reason: 'ImageNotFound' });
      return found;
    }
    const all = this.deps.inventory.byName(name);
    const templates = all.filter((r) => r.template);
    const pick = templates.length ? templates : all;
    if (pick.length === 1) return pick[0]!.ref;
    if (pick.length === 0) throw new PermanentError(`template "${name}" not found in vCenter`, { reason: 'ImageNotFound' });
    throw new PermanentError(`template "${name}" is ambiguous: ${pick.length} VMs or templates have that name; give its path below the datacenter's vm folder`, { reason: 'ImageAmbiguous' });
  }

  /** A cached template from an earlier (maybe interrupted) preparation. */
  private async existingCached(name: string, ctx: OperationContext): Promise<MoRef | undefined> {
    const found: VmRecord | undefined = this.deps.inventory.byName(name)[0];
    if (!found) return undefined;
    return found.template ? found.ref : this.markTemplate(found.ref, ctx);
  }

  private async markTemplate(vm: MoRef, ctx: OperationContext): Promise<MoRef> {
    try {
      await this.deps.client.call('MarkAsTemplate', { _this: ref(vm) }, { signal: ctx.signal });
    } catch (err) {
      // Marked already (a retry after a crash).
      if (!isFault(err, 'NotSupported', 'InvalidState')) throw err;
    }
    await this.deps.inventory.refresh(vm, ctx.signal);
    return vm;
  }

  private async firstDatastore(place: ResolvedPlacement): Promise<MoRef> {
    const all = await this.deps.lookup.list(place.datacenter.datastoreFolder, ['Datastore'], ['name']);
    if (!all[0]) throw new PermanentError(`datacenter ${place.datacenter.name} has no datastore to import the image into`, { reason: 'PlacementNotFound' });
    return all[0].obj;
  }

  private async fromLibrary(library: string, itemName: string, place: ResolvedPlacement, ctx: OperationContext): Promise<MoRef> {
    const rest = this.deps.rest();
    try {
      const libId = await rest.findLibrary(library);
      if (!libId) throw new PermanentError(`content library "${library}" not found`, { reason: 'ImageNotFound' });
      const item = await rest.findItem(libId, itemName);
      if (!item) throw new PermanentError(`item "${itemName}" not found in content library "${library}"`, { reason: 'ImageNotFound' });
      const name = cachedTemplateName(`cl:${item.id}@${item.contentVersion}`);
      const found = await this.existingCached(name, ctx);
      if (found) return found;
      ctx.progress(5, `deploying content library item ${library}/${itemName}`);
      const target = { name, pool: place.pool.value, folder: place.folder.value, host: place.host?.value, datastore: place.datastore?.value };
      const id = item.type === 'vm-template' ? await rest.deployTemplateItem(item.id, target) : await rest.deployOvfItem(item.id, target);
      this.deps.log?.info('content library item deployed as a cached template', { library, item: itemName, template: name, vm: id });
      return await this.markTemplate({ type: 'VirtualMachine', value: id }, ctx);
    } catch (err) {
      if (err instanceof PermanentError || err instanceof TransientError) throw err;
      throw restToAgentError(err, `deploying content library item ${library}/${itemName}`);
    }
  }
}
