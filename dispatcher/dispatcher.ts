/**
 * startDispatcher(): the whole dispatcher in-process (main.ts runs it as a process).
 *
 * Every replica keeps the informer caches warm. The replica holding the Lease (one at a time)
 * also runs the work queue (reconciles → commands), the status-event consumer and the
 * max-deliveries listener; losing the Lease stops all three at once.
 */
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { VirtualMachine } from '../api/objects.ts';
import { asKubeAuth, Backoff, loadKubeAuth, type InformerHandlers, type KubeAuth } from '../kube/index.ts';
import { ensureStreams } from '../proto/bus/topology.ts';
import { listenMaxDeliveries } from './bus/advisory-listener.ts';
import { deadLetter } from './bus/dead-letter.ts';
import { createPublisher } from './bus/publisher.ts';
import { startStatusConsumer, type StatusConsumer } from './bus/status-consumer.ts';
import type { Config } from './config.ts';
import { NotLeaderError } from './errors.ts';
import { startCaches } from './k8s/caches.ts';
import { createKubeApi } from './k8s/kube-api.ts';
import { objectKey } from './k8s/object-key.ts';
import { createSecretReader } from './k8s/secret-reader.ts';
import { createLogger, type Logger } from './log.ts';
import { startProviderController, type ProviderController, type ProviderControllerConfig, type VMEventSource } from './providers/index.ts';
import { RateLimiter } from './queue/rate-limiter.ts';
import { WorkQueue } from './queue/work-queue.ts';
import { createDeliveryExhaustedHandler } from './reconcile/delivery-exhausted.ts';
import { DependencyIndex } from './reconcile/dependency-index.ts';
import { CommandLedger } from './reconcile/ledger.ts';
import { createReconciler } from './reconcile/reconciler.ts';
import { actionFor, applyAction, type ReconcileResult } from './reconcile/retry-policy.ts';
import { dependenciesOf, dependencyKey } from './resolve/dependencies.ts';
import { startLeaderElection } from './runtime/leader-election.ts';
import { startMetricsServer, type MetricsServer } from './runtime/metrics-server.ts';
import { createMetrics, type DispatcherMetrics } from './runtime/metrics.ts';
import { createEventRecorder } from './status/event-recorder.ts';
import { createStatusEventHandler } from './status/event-handler.ts';
import { addFinalizer, removeFinalizer } from './status/finalizers.ts';
import { CoalesceWindow } from './status/coalesce-window.ts';
import { StatusWriter } from './status/status-writer.ts';

export interface StartDispatcherOptions {
  config: Config;
  /** Overrides config.kubeconfigPath (tests pass the test cluster's). */
  /** Where the apiserver is (tests); otherwise config.kubeconfigPath, $KUBECONFIG, ~/.kube/config, in-cluster. */
  kubeConfig?: KubeConfig | KubeAuth;
  log?: Logger;
  /** Runs the Provider controller on the leading replica with these settings; unset: not run. */
  providers?: ProviderControllerConfig;
  /** Test hooks. */
  hooks?: {
    /** Runs before each status write attempt (to provoke a real 409). */
    beforeStatusWrite?: (key: string, attempt: number) => Promise<void>;
  };
}

export interface Dispatcher {
  readonly identity: string;
  readonly metrics: DispatcherMetrics;
  /** The /metrics port, when the endpoint runs. */
  readonly metricsPort?: number;
  isLeader(): boolean;
  /** Resolves when this replica leads (immediately if it does). */
  whenLeader(): Promise<void>;
  /** Stops everything; releaseLease (default true) lets another replica take over at once. */
  stop(opts?: { releaseLease?: boolean }): Promise<void>;
}

/** The fields of a VM that can change what the dispatcher does (status-only updates cannot). */
function fingerprint(vm: VirtualMachine): string {
  const m = vm.metadata;
  return `${m.uid}|${m.generation}|${m.deletionTimestamp ?? ''}|${JSON.stringify(m.annotations ?? {})}|${(m.finalizers ?? []).join(',')}`;
}

export async function startDispatcher(opts: StartDispatcherOptions): Promise<Dispatcher> {
  const { config } = opts;
  const log = (opts.log ?? createLogger({ level: config.logLevel })).child({ component: 'dispatcher', identity: config.identity });
  const metrics = createMetrics();
  const kubeAuth = opts.kubeConfig ? asKubeAuth(opts.kubeConfig) : await loadKubeAuth(config.kubeconfigPath);
  const api = createKubeApi(kubeAuth);

  // 1. The bus: connection, streams.
  const nc: NatsConnection = await connect({
    servers: config.natsUrl, name: `virtrigaud-dispatcher ${config.identity}`, maxReconnectAttempts: -1, reconnectTimeWait: 500,
    // No stack captured per publish (a measurable cost per command); timeouts still name the subject.
    noAsyncTraces: true,
    // Re-read at every (re)connect, so renewed credentials are picked up.
    ...(config.natsCredsFile ? { authenticator: credsAuthenticator(() => readFileSync(config.natsCredsFile!)) } : {}),
  });
  const js: JetStreamClient = jetstream(nc);
  const jsm: JetStreamManager = await jetstreamManager(nc);
  await ensureStreams(jsm, config.streamReplicas);

  // 2. Work queue and the state of the current leadership term.
  let term: {
    signal: AbortSignal; consumer?: StatusConsumer; advisories?: { stop(): void }; providers?: Promise<ProviderController | undefined>; done: Promise<void>;
  } | undefined;
  const queue = new WorkQueue(async (key) => {
    const signal = term?.signal;
    if (!signal || signal.aborted) return;
    const started = performance.now();
    let result: ReconcileResult;
    let label = 'error';
    try {
      const outcome = await reconcile(key, signal);
      result = { ok: outcome };
      label = outcome.reason ?? 'gone';
    } catch (error) {
      result = { error };
      if (error instanceof NotLeaderError) log.debug('reconcile stopped: lease lost', { kind: 'VirtualMachine', key });
      else log.warn('reconcile failed', { kind: 'VirtualMachine', key, err: error });
    }
    applyAction(queue, key, actionFor(result));
    metrics.reconciles.inc({ result: label });
    metrics.reconcileSeconds.observe({ result: label }, (performance.now() - started) / 1000);
  }, {
    concurrency: config.queue.workers,
    rateLimiter: new RateLimiter({ baseMs: config.queue.baseRetryMs, maxMs: config.queue.maxRetryMs, qps: config.queue.retryQps, burst: config.queue.retryBurst }),
    onDepth: (d) => metrics.queueDepth.set(d),
  });

  // 3. Caches; handlers only enqueue keys (VMs directly, dependencies through the index).
  const index = new DependencyIndex();
  const keyByUid = new Map<string, string>();
  const seen = new Map<string, string>();
  const ledger = new CommandLedger();
  // The Provider controller follows VMs through this cache rather than a watch of its own.
  const vmListeners = new Set<InformerHandlers<VirtualMachine>>();
  const vmEvents: VMEventSource = {
    get synced() {
      return caches.synced;
    },
    list: () => caches.vms.list(),
    subscribe: (h) => {
      vmListeners.add(h);
      return () => vmListeners.delete(h);
    },
  };
  const onVM = (vm: VirtualMachine, verb: 'add' | 'update') => {
    for (const l of vmListeners) l[verb]?.(vm);
    const key = objectKey(vm);
    index.set(key, dependenciesOf(vm));
    if (vm.metadata.uid) {
      keyByUid.set(vm.metadata.uid, key);
      ledger.settle(vm.metadata.uid, vm.status?.lastCommand);
    }
    statusWriter.cacheUpdated(vm);
    const print = fingerprint(vm);
    if (seen.get(key) === print) return;
    seen.set(key, print);
    queue.add(key);
  };
  const caches = startCaches({
    api, namespace: config.namespace,
    handlers: {
      vm: {
        add: (vm) => onVM(vm, 'add'),
        update: (vm) => onVM(vm, 'update'),
        delete: (vm) => {
          for (const l of vmListeners) l.delete?.(vm);
          const key = objectKey(vm);
          index.remove(key);
          seen.delete(key);
          statusWriter.forget(key);
          if (vm.metadata.uid) {
            keyByUid.delete(vm.metadata.uid);
            ledger.delete(vm.metadata.uid);
          }
        },
      },
      dependency: (kind, ns, name) => {
        for (const key of index.dependents(dependencyKey(kind, ns, name))) queue.add(key);
      },
    },
    onEvent: (e) => {
      switch (e.type) {
        case 'error':
          metrics.informerRestarts.inc({ kind: e.kind });
          log.warn('informer restarting', { kind: e.kind, retryInMs: e.retryInMs, err: e.error });
          break;
        case 'listed':
          log.debug('informer listed', { kind: e.kind, count: e.count });
          break;
        case 'synced':
          log.info('informer synced', { kind: e.kind, count: e.count });
          break;
      }
    },
  });

  // 4. Status writing (the one writer), reconciling, events, advisories.
  const statusWriter = new StatusWriter({
    api, cache: caches.vms, log,
    recorder: createEventRecorder({
      api, identity: config.identity, log, onRecorded: () => metrics.kubeEvents.inc(), onDropped: () => metrics.kubeEventsDropped.inc(),
    }),
    onResult: (r) => metrics.statusWrites.inc({ result: r }),
    beforeWrite: opts.hooks?.beforeStatusWrite,
  });
  // A finalizer patch returns the VM's newest version: the status write that follows starts from it.
  const finalizerApi = {
    getVM: api.getVM,
    patchVM: async (namespace: string, name: string, patch: Record<string, unknown>) => {
      const vm = await api.patchVM(namespace, name, patch);
      statusWriter.observe(vm);
      return vm;
    },
  };
  const finalizers = { add: (vm: VirtualMachine) => addFinalizer(finalizerApi, vm), remove: (vm: VirtualMachine) => removeFinalizer(finalizerApi, vm) };
  const coalesce = new CoalesceWindow(config.statusCoalesceMs, config.statusCoalesceMaxMs);
  const reconcile = createReconciler({
    vms: caches.vms, lookup: caches.lookup, secrets: createSecretReader(api), ledger,
    publisher: createPublisher(js), statusWriter, finalizers, metrics, log,
    redispatchAfterExhaustedMs: config.redispatchAfterExhaustedMs,
    statusCoalesceMs: config.statusCoalesceMs,
    coalesce,
    retryLater: (key) => queue.addRateLimited(key),
  });
  const handleEvent = createStatusEventHandler({
    vms: caches.vms, api, ledger, statusWriter, removeFinalizer: finalizers.remove, metrics, log, signal: () => term?.signal,
    statusCoalesceMs: config.statusCoalesceMs,
    coalesce,
    vmKeyByUid: (uid) => keyByUid.get(uid),
  });
  const handleExhausted = createDeliveryExhaustedHandler({
    vms: caches.vms, vmKeyByUid: (uid) => keyByUid.get(uid), jsm, ledger, statusWriter,
    requeueAfter: (key, ms) => queue.addAfter(key, ms),
    redispatchAfterExhaustedMs: config.redispatchAfterExhaustedMs, metrics, log,
  });

  await caches.synced;

  // 5. Leadership: the term starts the queue (every VM once), the consumer and the advisories.
  const leaderWaiters: Array<() => void> = [];
  const startTerm = (signal: AbortSignal) => {
    metrics.leader.set(1);
    ledger.clear();
    statusWriter.resume();
    const current: NonNullable<typeof term> = { signal, done: Promise.resolve() };
    term = current;
    queue.start();
    for (const vm of caches.vms.list()) queue.add(objectKey(vm));
    current.advisories = listenMaxDeliveries(nc, handleExhausted, log);
    if (opts.providers) {
      current.providers = startProviderController({ kubeConfig: kubeAuth, vms: vmEvents, nc, log, config: opts.providers, events: api, signal })
        .catch((err: unknown) => {
          if (!signal.aborted) log.error('provider controller not started; Providers get no agents or status until the next term', { err });
          return undefined;
        });
    }
    // The status consumer runs for the whole term, restarted (with backoff) if it ever ends by itself.
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    current.done = (async () => {
      const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
      while (!signal.aborted) {
        try {
          const consumer = await startStatusConsumer({
            js, jsm, concurrency: config.eventConcurrency, handle: handleEvent, log,
            onMalformed: (m, reason) => {
              metrics.malformedEvents.inc();
              log.warn('malformed status event rejected', { subject: m.subject, reason });
              deadLetter(js, m.subject, m.data, reason).catch((err: unknown) => log.warn('dead letter not recorded', { err }));
            },
          });
          current.consumer = consumer;
          await Promise.race([consumer.ended, aborted]);
          current.consumer = undefined;
          await consumer.stop();
          if (signal.aborted) return;
          log.warn('status consumer ended, restarting');
        } catch (err) {
          log.warn('status consumer not started', { err });
        }
        await Promise.race([new Promise((r) => setTimeout(r, backoff.next())), aborted]);
      }
    })();
    for (const w of leaderWaiters.splice(0)) w();
  };
  const endTerm = async () => {
    metrics.leader.set(0);
    const current = term;
    term = undefined;
    ledger.clear();
    // Changes waiting to be coalesced are written now, while this replica still may.
    statusWriter.flush();
    const stopping: Promise<unknown>[] = [queue.stop()];
    if (current) {
      current.advisories?.stop();
      if (current.providers) stopping.push(current.providers.then((c) => c?.stop()));
      stopping.push(current.done);
    }
    await Promise.allSettled(stopping);
  };
  let ending: Promise<void> = Promise.resolve();
  const election = startLeaderElection({
    api, ...config.lease, identity: config.identity, log,
    onStartedLeading: startTerm,
    onStoppedLeading: () => {
      ending = endTerm();
    },
  });

  // 6. Metrics endpoint.
  let metricsServer: MetricsServer | undefined;
  if (config.metricsPort > 0) metricsServer = await startMetricsServer(metrics.registry, config.metricsPort, () => nc.isClosed() === false);

  log.info('dispatcher started', { namespace: config.namespace ?? '(all)', nats: config.natsUrl, lease: `${config.lease.namespace}/${config.lease.name}` });
  return {
    identity: config.identity,
    metrics,
    metricsPort: metricsServer?.port,
    isLeader: () => election.isLeader(),
    whenLeader: () => (election.isLeader() ? Promise.resolve() : new Promise<void>((resolve) => leaderWaiters.push(resolve))),
    async stop(stopOpts = {}) {
      await election.stop({ release: stopOpts.releaseLease ?? true });
      await ending;
      await caches.stop();
      api.close();
      await nc.drain().catch(() => nc.close());
      await metricsServer?.close();
      log.info('dispatcher stopped');
    },
  };
}
