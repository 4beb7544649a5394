/**
 * One kind's informer cache: client-node's ListWatch, which stops for good on any error other
 * than 410 Gone, inside a restart loop with backoff. Answers get/list from memory only.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { Store } from './store.ts';

/** What an informer reports; the process logs these (the library does not). */
export type CacheEvent =
  | { type: 'listed'; kind: string; count: number }
  | { type: 'error'; kind: string; error: unknown; retryInMs: number }
  | { type: 'synced'; kind: string };

export interface InformerOptions<T extends KubernetesObject> {
  kind: string;
  /** Collection path to watch, e.g. `/apis/infra.virtrigaud.io/v1beta1/vmclasses`. */
  path: string;
  /** Lists the collection (all namespaces). */
  list: () => Promise<KubernetesListObject<T>>;
  kubeConfig: KubeConfig;
  backoff?: BackoffOptions;
  onEvent?: (event: CacheEvent) => void;
}

export interface Informer<T> extends Store<T> {
  kind: string;
  /** Resolves after the first complete list is in memory. */
  synced: Promise<void>;
  isSynced(): boolean;
  stop(): Promise<void>;
}

/**
 * A Watch whose failures always arrive through `done`. ListWatch re-watches from inside a `done`
 * callback without awaiting it: a rejection there (credentials that fail to load, say) would be
 * unhandled and stop the informer silently; through `done` it reaches the restart loop.
 */
class SettlingWatch extends Watch {
  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    try {
      return await super.watch(path, queryParams, callback, done);
    } catch (err) {
      done(err);
      return new AbortController();
    }
  }
}

export function startInformer<T extends KubernetesObject>(opts: InformerOptions<T>): Informer<T> {
  const { kind } = opts;
  const emit = opts.onEvent ?? (() => {});
  const backoff = new Backoff(opts.backoff);
  let stopped = false;
  let synced = false;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  const list = async () => {
    const result = await opts.list();
    // ListWatch stores the items in the microtasks right after this promise settles: by the
    // next macrotask they are in memory.
    setImmediate(() => {
      if (stopped) return;
      backoff.reset();
      emit({ type: 'listed', kind, count: result.items?.length ?? 0 });
      if (!synced) {
        synced = true;
        markSynced();
        emit({ type: 'synced', kind });
      }
    });
    return result;
  };
  const lw = new ListWatch<T>(opts.path, new SettlingWatch(opts.kubeConfig), list, false);

  // Per-namespace lists are built once and kept until that namespace changes.
  const lists = new Map<string, readonly T[]>();
  const changed = (obj: T) => {
    lists.delete(obj.metadata?.namespace ?? '');
    lists.delete(''); // list('') is every namespace
    backoff.reset();
  };
  lw.on('add', changed);
  lw.on('update', changed);
  lw.on('delete', changed);

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
    list(namespace) {
      let items = lists.get(namespace);
      if (!items) lists.set(namespace, (items = lw.list(namespace)));
      return items;
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      await lw.stop();
    },
  };
}
