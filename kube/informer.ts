/**
 * One kind's informer: list (in pages), then watch from the list's resourceVersion; a watch that
 * ends is resumed from the last version seen (bookmarks keep it current), a 410 Gone relists, and
 * any other failure restarts after a backoff. It keeps the kind in memory (a Store), hands
 * add/update/delete to optional handlers, and reports what happens as events.
 */
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { AnyObject, ObjectList } from './objects.ts';
import { KubeApiError, type KubeRest, type WatchEvent, type WatchStream } from './rest.ts';
import { ListMemo, type Store } from './store.ts';

/** What an informer reports; the process logs these. */
export type InformerEvent =
  /** A list succeeded (the first one, or a relist after 410 Gone or a restart). */
  | { type: 'listed'; kind: string; count: number }
  /** The first list is in memory; sent once. */
  | { type: 'synced'; kind: string; count: number }
  /** A list or watch failed; the informer starts again after `retryInMs`. */
  | { type: 'error'; kind: string; error: unknown; retryInMs: number };

/**
 * Called after the store holds the change (so `get`/`list` already answer with it). Keep them
 * short: they run inside the watch's event dispatch.
 */
export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
}

export interface InformerOptions<T extends AnyObject> {
  kind: string;
  /** Collection path to list and watch, e.g. `/apis/infra.virtrigaud.io/v1beta1/vmclasses` or a namespaced one. */
  path: string;
  client: KubeRest;
  handlers?: InformerHandlers<T>;
  /**
   * Turns every object as it arrives into what is stored and handed to handlers (e.g. dropping
   * a Secret's data so the cache holds metadata only). It may return the object changed in place
   * or a new one; it must keep metadata.namespace, name and resourceVersion.
   */
  transform?: (obj: T) => T | void;
  /** Watch only objects with these labels. */
  labelSelector?: string;
  backoff?: BackoffOptions;
  onEvent?: (event: InformerEvent) => void;
  /** Objects per list page (default 500, as client-go's reflector). */
  pageSize?: number;
}

/** A running informer: a Store of its kind plus its lifecycle. */
export interface Informer<T> extends Store<T> {
  readonly kind: string;
  /** Resolves after the first complete list is in memory. */
  readonly synced: Promise<void>;
  isSynced(): boolean;
  /** Stops watching and retrying; the store keeps answering with what it last held. */
  stop(): Promise<void>;
}

/** The apiserver ends a watch after this long (randomized like client-go's 5–10 minutes); it is resumed at once. */
const watchTimeoutSeconds = () => 300 + Math.floor(Math.random() * 300);

class Gone extends Error {}

export function startInformer<T extends AnyObject>(opts: InformerOptions<T>): Informer<T> {
  const { kind, client } = opts;
  const emit = opts.onEvent ?? (() => {});
  const h = opts.handlers ?? {};
  const backoff = new Backoff(opts.backoff);
  const objects = new Map<string, Map<string, T>>();
  const lists = new ListMemo<T>();
  const selector = opts.labelSelector ? `&labelSelector=${encodeURIComponent(opts.labelSelector)}` : '';
  let stopped = false;
  let synced = false;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));
  let watch: WatchStream | undefined;
  let retry: NodeJS.Timeout | undefined;
  /** Ends the wait before a retry (stop). */
  let wake: (() => void) | undefined;
  let loop: Promise<void> = Promise.resolve();

  const shape = (obj: T): T => (opts.transform?.(obj) ?? obj) as T;
  const nsOf = (obj: AnyObject) => obj.metadata?.namespace ?? '';
  const nameOf = (obj: AnyObject) => obj.metadata?.name ?? '';
  const rvOf = (obj: AnyObject) => (obj.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;

  const put = (obj: T): 'add' | 'update' | undefined => {
    const ns = nsOf(obj);
    let names = objects.get(ns);
    if (!names) objects.set(ns, (names = new Map()));
    const old = names.get(nameOf(obj));
    names.set(nameOf(obj), obj);
    lists.invalidate(ns);
    if (!old) return 'add';
    // A relist hands back objects we already hold: unchanged ones are not news.
    return rvOf(old) === rvOf(obj) ? undefined : 'update';
  };
  const remove = (ns: string, name: string): T | undefined => {
    const names = objects.get(ns);
    const old = names?.get(name);
    if (!old) return undefined;
    names!.delete(name);
    if (names!.size === 0) objects.delete(ns);
    lists.invalidate(ns);
    return old;
  };

  /** Lists every page; the store then holds exactly the list (what vanished is reported deleted). */
  const list = async (): Promise<string> => {
    const size = opts.pageSize ?? 500;
    let next = '';
    let listVersion = '';
    const seen = new Set<string>();
    const fresh: T[] = [];
    do {
      const page = await client.request<ObjectList<T> & { metadata?: { continue?: string } }>('GET',
        `${opts.path}?limit=${size}${selector}${next ? `&continue=${encodeURIComponent(next)}` : ''}`);
      for (const item of page.items ?? []) fresh.push(shape(item));
      next = page.metadata?.continue ?? '';
      listVersion = page.metadata?.resourceVersion ?? listVersion;
    } while (next && !stopped);
    if (stopped) return listVersion;
    for (const obj of fresh) {
      seen.add(`${nsOf(obj)}/${nameOf(obj)}`);
      const verb = put(obj);
      if (verb) h[verb]?.(obj);
    }
    for (const [ns, names] of [...objects]) {
      for (const [name] of [...names]) {
        if (seen.has(`${ns}/${name}`)) continue;
        const old = remove(ns, name);
        if (old) h.delete?.(old);
      }
    }
    backoff.reset();
    emit({ type: 'listed', kind, count: fresh.length });
    if (!synced) {
      synced = true;
      markSynced();
      emit({ type: 'synced', kind, count: fresh.length });
    }
    return listVersion;
  };

  /** The version the next watch starts from; undefined: list first. */
  let resourceVersion: string | undefined;

  /** Watches from `resourceVersion` until the stream ends, moving it along with every event. */
  const watchFrom = async (from: string): Promise<void> => {
    let gone = false;
    let failure: unknown;
    const onEvent = (e: WatchEvent) => {
      if (e.type === 'ERROR') {
        // A Status object: 410 means our version is older than the apiserver keeps.
        if ((e.object as { code?: number }).code === 410) gone = true;
        else throw new Error(`watch of ${kind}: the apiserver sent an error: ${String((e.object as { message?: string }).message ?? '')}`);
        watch?.stop();
        return;
      }
      const obj = e.object as T;
      resourceVersion = rvOf(obj) ?? resourceVersion;
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') {
        const old = remove(nsOf(obj), nameOf(obj));
        if (old) h.delete?.(shape(obj));
        return;
      }
      const shaped = shape(obj);
      const verb = put(shaped);
      backoff.reset();
      if (verb) h[verb]?.(shaped);
    };
    watch = await client.watch(`${opts.path}?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(from)}` +
      `&timeoutSeconds=${watchTimeoutSeconds()}${selector}`, (e) => {
      try {
        onEvent(e);
      } catch (err) {
        watch?.stop();
        failure = err;
      }
    });
    try {
      await watch.done;
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 410) gone = true;
      else throw err;
    } finally {
      watch = undefined;
    }
    if (gone) throw new Gone();
    if (failure) {
      // The apiserver reported an error we cannot place: start over from a list.
      resourceVersion = undefined;
      throw failure;
    }
  };

  const run = async () => {
    while (!stopped) {
      try {
        if (resourceVersion === undefined) resourceVersion = await list();
        while (!stopped && resourceVersion !== undefined) await watchFrom(resourceVersion);
      } catch (err) {
        if (stopped) return;
        if (err instanceof Gone) {
          resourceVersion = undefined;
          continue;
        }
        // A failed list lists again; a cut watch resumes from the last version seen (a 410 then relists).
        const retryInMs = backoff.next();
        emit({ type: 'error', kind, error: err, retryInMs });
        await new Promise<void>((resolve) => {
          wake = resolve;
          retry = setTimeout(resolve, retryInMs);
        });
        retry = undefined;
        wake = undefined;
      }
    }
  };
  loop = run();

  return {
    kind,
    synced: syncedPromise,
    isSynced: () => synced,
    get: (namespace, name) => objects.get(namespace)?.get(name),
    list: (namespace = '') => lists.get(namespace, () => {
      const maps = namespace ? [objects.get(namespace)] : [...objects.values()];
      return maps.flatMap((names) => [...(names?.values() ?? [])]);
    }),
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      wake?.();
      watch?.stop();
      await loop;
    },
  };
}
