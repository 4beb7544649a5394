/** A read-only store of one kind, by namespace and name: what a Lookup is built from. */
import type { ObjectMeta } from '../../api/objects.ts';

export interface Store<T> {
  get(namespace: string, name: string): T | undefined;
  /** Objects of a namespace; the same array until the namespace changes (callers must not modify it). */
  list(namespace: string): readonly T[];
}

/** A Store filled by hand: tests, benchmarks, and seeding a lookup without a cluster. */
export class MemoryStore<T extends { metadata: ObjectMeta }> implements Store<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly lists = new Map<string, readonly T[]>();

  constructor(objects: Iterable<T> = []) {
    for (const obj of objects) this.put(obj);
  }

  put(obj: T): void {
    const ns = obj.metadata.namespace ?? '';
    let names = this.byNamespace.get(ns);
    if (!names) this.byNamespace.set(ns, (names = new Map()));
    names.set(obj.metadata.name ?? '', obj);
    this.lists.delete(ns);
  }

  remove(namespace: string, name: string): void {
    if (this.byNamespace.get(namespace)?.delete(name)) this.lists.delete(namespace);
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  list(namespace: string): readonly T[] {
    let list = this.lists.get(namespace);
    if (!list) this.lists.set(namespace, (list = [...(this.byNamespace.get(namespace)?.values() ?? [])]));
    return list;
  }
}
