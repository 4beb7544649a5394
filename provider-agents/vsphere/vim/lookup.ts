/**
 * Finding inventory objects by name: SearchIndex.FindByInventoryPath for paths, a ContainerView
 * listing for "the objects of this type under that container". Answers are cached for a minute
 * (placement names rarely move); a miss is never cached.
 */
import { PermanentError } from '../../core/errors.ts';
import { decodeMoRef, ref, type MoRef, type VimClient } from '../soap/client.ts';
import type { XmlNode } from '../soap/xml.ts';
import { retrieveOne, retrieveProperties, viewFilterSpec, type ObjectProps } from './property.ts';

const TTL_MS = 60_000;

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

export class InventoryLookup {
  private readonly cache = new Map<string, Cached<unknown>>();

  constructor(private readonly client: VimClient) {}

  private cached<T>(key: string, load: () => Promise<T>, keep: (v: T) => boolean = () => true): Promise<T> {
    const hit = this.cache.get(key) as Cached<T> | undefined;
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    const value = load();
    this.cache.set(key, { at: Date.now(), value });
    value.then((v) => { if (!keep(v)) this.cache.delete(key); }, () => this.cache.delete(key));
    return value;
  }

  /** Forgets everything (an object we resolved turned out gone). */
  invalidate(): void {
    this.cache.clear();
  }

  /** The object at an inventory path (`DC0/host/Cluster/Resources/pool`), or undefined. */
  byPath(path: string): Promise<MoRef | undefined> {
    return this.cached(`path:${path}`, async () => {
      const [found] = await this.client.call('FindByInventoryPath', { _this: ref(this.client.serviceContent.searchIndex), inventoryPath: path });
      return found === undefined ? undefined : decodeMoRef(found, `FindByInventoryPath(${path})`);
    }, (v) => v !== undefined);
  }

  /** Objects of `types` under `container` (recursive) with `paths`. */
  list(container: MoRef, types: readonly string[], paths: readonly string[]): Promise<ObjectProps[]> {
    return this.cached(`list:${container.value}:${types.join(',')}:${paths.join(',')}`, async () => {
      const sc = this.client.serviceContent;
      const [viewNode] = await this.client.call('CreateContainerView', { _this: ref(sc.viewManager), container: ref(container), type: [...types], recursive: true });
      const view = decodeMoRef(viewNode, 'CreateContainerView');
      try {
        return await retrieveProperties(this.client, sc.propertyCollector, viewFilterSpec(view, types.map((type) => ({ type, paths }))));
      } finally {
        await this.client.call('DestroyView', { _this: ref(view) }).catch(() => undefined);
      }
    });
  }

  /** Properties of one object (cached). */
  props(obj: MoRef, paths: readonly string[]): Promise<Map<string, XmlNode>> {
    return this.cached(`props:${obj.type}:${obj.value}:${paths.join(',')}`, () => retrieveOne(this.client, obj, paths));
  }

  /** The one object of `types` named `name` under `container`; a PermanentError naming `what` otherwise. */
  async uniqueByName(container: MoRef, types: readonly string[], name: string, what: string): Promise<MoRef> {
    const all = await this.list(container, types, ['name']);
    const found = all.filter((o) => textName(o) === name);
    if (found.length === 1) return found[0]!.obj;
    if (found.length === 0) {
      const names = all.map(textName).sort().slice(0, 20).join(', ');
      throw new PermanentError(`${what} "${name}" not found (have: ${names || 'none'})`, { reason: 'PlacementNotFound' });
    }
    throw new PermanentError(`${what} "${name}" is ambiguous: ${found.length} objects have that name; give its inventory path`, { reason: 'PlacementAmbiguous' });
  }
}

export function textName(o: ObjectProps): string {
  const v = o.props.get('name');
  return typeof v === 'string' ? v : ((v as { '#text'?: string } | undefined)?.['#text'] ?? '');
}
