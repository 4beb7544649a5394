/** A read-only store of one kind by namespace and name: what informers answer and lookups are built from. */
import type { AnyObject } from './objects.ts';

/** Reads from memory; never calls the apiserver. */
export interface Store<T> {
  get(namespace: string, name: string): T | undefined;
  /**
   * Objects of one namespace, or of every namespace when `namespace` is omitted or `''`. The same
   * array until an object of that namespace changes, so callers may memoize on its identity; they
   * must not modify it.
   */
  list(namespace?: string): readonly T[];
}

/** Per-namespace lists, built once and kept until that namespace changes. */
export class ListMemo<T> {
  private readonly lists = new Map<string, readonly T[]>();

  /** The memoized list of `namespace` (`''` for every namespace), built by `build` when missing. */
  get(namespace: string, build: () => readonly T[]): readonly T[] {
    let items = this.lists.get(namespace);
    if (!items) this.lists.set(namespace, (items = build()));
    return items;
  }

  /** An object of `namespace` changed: its list and the every-namespace list are stale. */
  invalidate(namespace: string): void {
    this.lists.delete(namespace);
    this.lists.delete('');
  }
}

/** A Store filled by hand: tests, benchmarks, and seeding a lookup without a cluster. */
export class MemoryStore<T extends AnyObject> implements Store<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly lists = new ListMemo<T>();

  constructor(objects: Iterable<T> = []) {
    for (const obj of objects) this.put(obj);
  }

  /** Adds or replaces an object. */
  put(obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    let names = this.byNamespace.get(ns);
    if (!names) this.byNamespace.set(ns, (names = new Map()));
    names.set(obj.metadata?.name ?? '', obj);
    this.lists.invalidate(ns);
  }

  remove(namespace: string, name: string): void {
    if (this.byNamespace.get(namespace)?.delete(name)) this.lists.invalidate(namespace);
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  list(namespace = ''): readonly T[] {
    return this.lists.get(namespace, () => {
      const maps = namespace ? [this.byNamespace.get(namespace)] : [...this.byNamespace.values()];
      return maps.flatMap((names) => [...(names?.values() ?? [])]);
    });
  }
}
