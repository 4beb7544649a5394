/**
 * One kind's informer: client-node's ListWatch inside a restart loop with backoff (ListWatch
 * stops for good on any error other than 410 Gone). Handlers get add/update/delete; reads are
 * answered from memory.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff, type BackoffOptions } from './backoff.ts';

/** What an informer reports; the process logs these. */
export type InformerEvent =
  | { type: 'synced'; kind: string; count: number }
  | { type: 'error'; kind: string; error: unknown; retryInMs: number };

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
}

/** Any Kubernetes object as JSON (our kinds keep timestamps as strings, unlike client-node's typed models). */
export type AnyObject = { metadata?: { name?: string; namespace?: string } };

/** A list response as the apiserver sends it. */
export interface ObjectList<T> {
  items?: T[];
  metadata?: { resourceVersion?: string };
}

export interface InformerOptions<T extends AnyObject> {
  kind: string;
  /** Collection path, e.g. `/apis/infra.virtrigaud.io/v1beta1/vmclasses` or a namespaced one. */
  path: string;
  list: () => Promise<ObjectList<T>>;
  kubeConfig: KubeConfig;
  handlers?: InformerHandlers<T>;
  /**
   * Applied in place to every object before it is stored or handed to a handler (e.g. dropping
   * a Secret's data so the cache holds metadata only).
   */
  transform?: (obj: T) => void;
  backoff?: BackoffOptions;
  onEvent?: (event: InformerEvent) => void;
}

export interface Informer<T> {
  readonly kind: string;
  /** Resolves after the first complete list is in memory. */
  readonly synced: Promise<void>;
  get(namespace: string, name: string): T | undefined;
  /** Every object (of one namespace, or all when namespace is undefined). */
  list(namespace?: string): T[];
  stop(): Promise<void>;
}

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
    // ListWatch stores the items in the microtasks right after this promise settles.
    setImmediate(() => {
      if (stopped) return;
      backoff.reset();
      if (!synced) {
        synced = true;
        markSynced();
        emit({ type: 'synced', kind, count: result.items?.length ?? 0 });
      }
    });
    return result;
  };
  // client-node types objects with Date timestamps; the JSON it handles is the same either way.
  type K = T & KubernetesObject;
  const lw = new ListWatch<K>(opts.path, new Watch(opts.kubeConfig), list as () => Promise<{ items: K[] }>, false);

  // Watch events reach ListWatch's store before any handler runs; the transform runs first of
  // all handlers, on the stored object itself.
  if (transform) {
    lw.on('add', (obj) => transform(obj));
    lw.on('update', (obj) => transform(obj));
  }
  const h = opts.handlers ?? {};
  lw.on('add', (obj) => {
    backoff.reset();
    h.add?.(obj);
  });
  lw.on('update', (obj) => {
    backoff.reset();
    h.update?.(obj);
  });
  lw.on('delete', (obj) => h.delete?.(obj));

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
    get: (namespace, name) => lw.get(name, namespace),
    list: (namespace) => [...lw.list(namespace)],
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      await lw.stop();
    },
  };
}
