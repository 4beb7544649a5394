/**
 * One kind's informer: client-node's ListWatch, which stops for good on any error other than
 * 410 Gone, inside a restart loop with backoff. It keeps the kind in memory (a Store), hands
 * add/update/delete to optional handlers, and reports what happens as events.
 */
import { ListWatch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { AnyObject, ObjectList } from './objects.ts';
import { SettlingWatch } from './settling-watch.ts';
import { ListMemo, type Store } from './store.ts';

/** What an informer reports; the process logs these (the library does not). */
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
  /** Collection path to watch, e.g. `/apis/infra.virtrigaud.io/v1beta1/vmclasses` or a namespaced one. */
  path: string;
  /** Lists the same collection as `path`. */
  list: () => Promise<ObjectList<T>>;
  kubeConfig: KubeConfig;
  handlers?: InformerHandlers<T>;
  /**
   * Applied in place to every object before it is stored or handed to a handler (e.g. dropping
   * a Secret's data so the cache holds metadata only). Must be idempotent: a relist hands
   * objects already stored to the delete handler.
   */
  transform?: (obj: T) => void;
  /** Watch only objects with these labels (`list` must apply the same selector). */
  labelSelector?: string;
  backoff?: BackoffOptions;
  onEvent?: (event: InformerEvent) => void;
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

/** Starts listing and watching at once; see `synced` for when reads are complete. */
export function startInformer<T extends AnyObject>(opts: InformerOptions<T>): Informer<T> {
  const { kind, transform } = opts;
  const emit = opts.onEvent ?? (() => {});
  const backoff = new Backoff(opts.backoff);
  let stopped = false;
  let synced = false;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  const list = async () => {
    const result = await opts.list();
    if (transform) for (const item of result.items ?? []) transform(item);
    // ListWatch stores the items in the microtasks right after this promise settles: by the
    // next macrotask they are in memory.
    setImmediate(() => {
      if (stopped) return;
      backoff.reset();
      const count = result.items?.length ?? 0;
      emit({ type: 'listed', kind, count });
      if (!synced) {
        synced = true;
        markSynced();
        emit({ type: 'synced', kind, count });
      }
    });
    return result;
  };
  // client-node types objects with Date timestamps; the JSON it handles is the same either way.
  type K = T & KubernetesObject;
  const lw = new ListWatch<K>(opts.path, new SettlingWatch(opts.kubeConfig), list as () => Promise<{ items: K[] }>, false, opts.labelSelector);

  // ListWatch stores an object before it calls any callback. In order: the transform (on the
  // stored object itself), then the memoized lists and the backoff, then the caller's handler.
  const lists = new ListMemo<T>();
  const h = opts.handlers ?? {};
  const on = (verb: 'add' | 'update' | 'delete', handler: ((obj: T) => void) | undefined) => {
    lw.on(verb, (obj) => {
      transform?.(obj);
      lists.invalidate(obj.metadata?.namespace ?? '');
      backoff.reset();
      handler?.(obj);
    });
  };
  on('add', h.add);
  on('update', h.update);
  on('delete', h.delete);

  let retry: NodeJS.Timeout | undefined;
  const restart = (error: unknown) => {
    if (stopped || retry) return;
    const retryInMs = backoff.next();
    emit({ type: 'error', kind, error, retryInMs });
    retry = setTimeout(() => {
      retry = undefined;
      run();
    }, retryInMs);
  };
  const run = () => {
    if (!stopped) lw.start().catch(restart);
  };
  lw.on('error', restart);
  run();

  return {
    kind,
    synced: syncedPromise,
    isSynced: () => synced,
    get: (namespace, name) => lw.get(name, namespace),
    list: (namespace = '') => lists.get(namespace, () => lw.list(namespace)),
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      await lw.stop();
    },
  };
}
