/**
 * The Provider controller: each Provider becomes its agents (objects.ts), its bus credentials
 * (nats-accounts.ts) and a status (status.ts). Run it on the leading dispatcher replica only
 * (start it when a term starts, stop it when the term ends).
 *
 * Event-driven: informers on Providers, VirtualMachines (provider reference only), the agent
 * Deployments (ours, by label) and Secrets (metadata only), plus the heartbeat tracker, enqueue
 * the Provider concerned; a reconcile applies only what changed and writes the status only when it
 * differs. A steady fleet (heartbeats every 5 s, unchanged Deployments) causes no apiserver call.
 *
 * Deleting a Provider: the webhook refuses while live VMs use it (rule provider-in-use); the
 * finalizer `provider.infra.virtrigaud.io/finalizer` keeps it — and so its agents, which the
 * garbage collector removes through ownerReferences only once the Provider is gone — until no VM
 * refers to it any more, not even one being deleted (its agents must still delete it on the
 * hypervisor).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CoreV1Event, KubeConfig, V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { API_VERSION } from '../../api/crd.ts';
import type { Provider, VirtualMachine } from '../../api/objects.ts';
import { asKubeAuth, startInformer, type AnyObject, type KubeAuth, type Informer, type InformerEvent, type InformerHandlers } from '../../kube/index.ts';
import { isNotFound } from '../errors.ts';
import type { KubeApi } from '../k8s/kube-api.ts';
import { keyOf, objectKey, parseKey } from '../k8s/object-key.ts';
import type { Logger } from '../log.ts';
import { RateLimiter } from '../queue/rate-limiter.ts';
import { WorkQueue } from '../queue/work-queue.ts';
import { findCondition, timestamp } from '../status/conditions.ts';
import type { ProviderControllerConfig } from './config.ts';
import { HeartbeatTracker } from './heartbeats.ts';
import { createProviderKube, type Applied, type ProviderKube } from './kube.ts';
import { mintAgentCreds, signerPublicKey } from './nats-accounts.ts';
import { agentPermissions } from './nats-permissions.ts';
import {
  CONFIG_HASH_ANNOTATION, MANAGED_SELECTOR, NATS_ANNOTATIONS, PROVIDER_LABEL, agentDeployment, agentScaledObject, agentService,
  agentServiceAccount, agentTypeOf, configHash, names, natsCredsSecret, providerNameProblem,
} from './objects.ts';
import { desiredStatus, sameStatus, type DeploymentFacts, type StatusInputs } from './status.ts';

export const PROVIDER_FINALIZER = 'provider.infra.virtrigaud.io/finalizer';

export interface ProviderControllerDeps {
  /** Where the apiserver is: the dispatcher's KubeAuth (tests may pass a client-node KubeConfig). */
  kubeConfig: KubeConfig | KubeAuth;
  /** The dispatcher's bus connection (heartbeats are read from it). */
  nc: NatsConnection;
  log: Logger;
  config: ProviderControllerConfig;
  /** core/v1 Events for Ready transitions (best effort); none when absent. */
  events?: Pick<KubeApi, 'createEvent'>;
  onInformerEvent?: (event: InformerEvent) => void;
  /**
   * The dispatcher's VirtualMachine cache, shared: without it the controller watches VMs itself
   * (a second copy of every VM event parsed and held).
   */
  vms?: VMEventSource;
  /** Overrides the clock (tests). */
  now?: () => number;
  /** The leadership term: aborting it while the caches still fill stops the start (it rejects). */
  signal?: AbortSignal;
}

/** VirtualMachine changes from a cache that already watches them. */
export interface VMEventSource {
  synced: Promise<void>;
  list(): readonly VirtualMachine[];
  /** Calls the handlers for every later change until the returned function is called. */
  subscribe(handlers: InformerHandlers<VirtualMachine>): () => void;
}

export interface ProviderController {
  /** Reconciles one Provider now (tests; the informers do it otherwise). */
  enqueue(namespace: string, name: string): void;
  stop(): Promise<void>;
}

/** A VM as the controller keeps it: which Provider it uses, and whether it is going away. */
interface SlimVM extends AnyObject {
  metadata: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string; resourceVersion?: string };
  spec: { providerRef?: { name?: string; namespace?: string } };
}

/** A new object, not the parsed one trimmed: `delete` would turn each cached VM into a hash table. */
function slimVM(vm: SlimVM): SlimVM {
  const full = vm as unknown as VirtualMachine;
  const ref = full.spec?.providerRef;
  const m = full.metadata ?? {};
  return {
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}) },
    spec: ref ? { providerRef: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } } : {},
  };
}

/** The dispatcher's VM cache as this controller's VM informer: the VMs it holds now, then its changes. */
function sharedVMs(source: VMEventSource, h: InformerHandlers<SlimVM>): Pick<Informer<SlimVM>, 'synced' | 'stop'> {
  let unsubscribe: (() => void) | undefined;
  let stopped = false;
  const synced = source.synced.then(() => {
    if (stopped) return;
    const slim = (vm: VirtualMachine) => slimVM(vm as unknown as SlimVM);
    unsubscribe = source.subscribe({ add: (vm) => h.add?.(slim(vm)), update: (vm) => h.update?.(slim(vm)), delete: (vm) => h.delete?.(slim(vm)) });
    for (const vm of source.list()) h.add?.(slim(vm));
  });
  return {
    synced,
    stop: async () => {
      stopped = true;
      unsubscribe?.();
    },
  };
}

function providerKeyOfVM(vm: SlimVM): string | undefined {
  const ref = vm.spec?.providerRef;
  if (!ref?.name) return undefined;
  return keyOf(ref.namespace || vm.metadata.namespace || '', ref.name);
}

/** Secrets are kept as metadata only: credentials never sit in this process's memory. */
function stripSecret(secret: V1Secret): void {
  delete secret.data;
  delete secret.stringData;
}

/** Renewal checks come at least daily (a timer cannot wait the weeks a credential lives). */
const MAX_RENEW_DELAY_MS = 24 * 3600 * 1000;

const hashOf = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');
const rvNumber = (o: { metadata?: { resourceVersion?: string } } | undefined) => Number(o?.metadata?.resourceVersion ?? 0);

export async function startProviderController(deps: ProviderControllerDeps): Promise<ProviderController> {
  const { config, nc } = deps;
  const log = deps.log.child({ component: 'provider-controller' });
  const now = deps.now ?? Date.now;
  const kube: ProviderKube = createProviderKube(asKubeAuth(deps.kubeConfig), config.fieldManager);
  const ns = config.namespace;
  const onEvent = (e: InformerEvent) => {
    deps.onInformerEvent?.(e);
    if (e.type === 'error') log.warn('informer restarting', { kind: e.kind, retryInMs: e.retryInMs, err: e.error });
  };

  const queue = new WorkQueue((key) => reconcile(key), {
    concurrency: config.workers,
    rateLimiter: new RateLimiter({ baseMs: 500, maxMs: 60_000, qps: 10, burst: 50 }),
    onError: (key, err) => log.warn('provider reconcile failed; retrying', { kind: 'Provider', ...parseKey(key), err }),
  });
  const enqueue = (key: string | undefined) => {
    if (key) queue.add(key);
  };

  // --- indexes, kept by the informer handlers -------------------------------------------
  /** provider key → VM keys that refer to it. */
  const vmsByProvider = new Map<string, Set<string>>();
  const providerOfVM = new Map<string, { provider: string | undefined; deleting: boolean }>();
  /** credential Secret key → provider keys that mount it. */
  const providersBySecret = new Map<string, Set<string>>();
  const secretOfProvider = new Map<string, string>();
  /** The newest Provider we wrote (our writes are ahead of the informer for a moment). */
  const newest = new Map<string, Provider>();
  /** Hash of what we last applied, per object, so an unchanged object is not applied again. */
  const applied = new Map<string, string>();
  const lastReady = new Map<string, string>();

  const index = <K, V>(m: Map<K, Set<V>>, k: K, v: V, add: boolean) => {
    let s = m.get(k);
    if (add) {
      if (!s) m.set(k, (s = new Set()));
      s.add(v);
    } else if (s) {
      s.delete(v);
      if (s.size === 0) m.delete(k);
    }
  };

  const onVM = (vm: SlimVM, removed: boolean) => {
    const key = objectKey(vm);
    const before = providerOfVM.get(key);
    const now = removed ? undefined : { provider: providerKeyOfVM(vm), deleting: Boolean(vm.metadata.deletionTimestamp) };
    if (before?.provider === now?.provider && before?.deleting === now?.deleting) return;
    if (before?.provider) index(vmsByProvider, before.provider, key, false);
    if (now?.provider) index(vmsByProvider, now.provider, key, true);
    if (now) providerOfVM.set(key, now);
    else providerOfVM.delete(key);
    enqueue(before?.provider);
    if (now?.provider !== before?.provider) enqueue(now?.provider);
  };

  const onProvider = (p: Provider, removed: boolean) => {
    const key = objectKey(p);
    const oldSecret = secretOfProvider.get(key);
    if (oldSecret) index(providersBySecret, oldSecret, key, false);
    if (removed) {
      secretOfProvider.delete(key);
      newest.delete(key);
      lastReady.delete(key);
      tracker.forget(key);
      for (const k of [...applied.keys()]) if (k.endsWith(`|${key}`)) applied.delete(k);
      return;
    }
    const secretKey = keyOf(p.metadata.namespace ?? '', p.spec?.credentialSecretRef?.name ?? '');
    secretOfProvider.set(key, secretKey);
    index(providersBySecret, secretKey, key, true);
    enqueue(key);
  };

  const handlers = <T>(fn: (obj: T, removed: boolean) => void): InformerHandlers<T> => ({
    add: (o) => fn(o, false), update: (o) => fn(o, false), delete: (o) => fn(o, true),
  });

  const tracker = new HeartbeatTracker({ nc, timeoutMs: config.heartbeatTimeoutMs, onChange: enqueue, log, now });

  const providers: Informer<Provider> = startInformer<Provider>({ kind: 'Provider', ...kube.providers(ns), handlers: handlers(onProvider), onEvent });
  const vms = deps.vms ? sharedVMs(deps.vms, handlers(onVM)) : startInformer<SlimVM>({
    kind: 'VirtualMachine', ...kube.vms<SlimVM>(ns), transform: slimVM, handlers: handlers(onVM), onEvent,
  });
  const deployments: Informer<V1Deployment & AnyObject> = startInformer<V1Deployment & AnyObject>({
    kind: 'Deployment', ...kube.deployments<V1Deployment & AnyObject>(ns, MANAGED_SELECTOR), onEvent,
    handlers: handlers((d) => enqueue(d.metadata?.labels?.[PROVIDER_LABEL] ? keyOf(d.metadata.namespace ?? '', d.metadata.labels[PROVIDER_LABEL]) : undefined)),
  });
  const secrets: Informer<V1Secret & AnyObject> = startInformer<V1Secret & AnyObject>({
    kind: 'Secret', ...kube.secrets<V1Secret & AnyObject>(ns), transform: stripSecret, onEvent,
    handlers: handlers((s) => {
      for (const key of providersBySecret.get(objectKey(s)) ?? []) enqueue(key);
      const owner = s.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'virtrigaud-dispatcher' ? s.metadata.labels[PROVIDER_LABEL] : undefined;
      if (owner) enqueue(keyOf(s.metadata?.namespace ?? '', owner));
    }),
  });
  const informers = [providers, vms, deployments, secrets];

  // --- one reconcile ---------------------------------------------------------------------
  const current = (key: string): Provider | undefined => {
    const { namespace, name } = parseKey(key);
    const cached = providers.get(namespace, name);
    const ours = newest.get(key);
    if (!cached) return undefined;
    return ours && ours.metadata.uid === cached.metadata.uid && rvNumber(ours) > rvNumber(cached) ? ours : cached;
  };

  const vmUsers = (key: string) => [...(vmsByProvider.get(key) ?? [])].map((k) => parseKey(k).name).sort();

  /** Applies `obj` unless what we last applied for it is the same. */
  const applyOnce = async (providerKey: string, obj: Applied, force = false): Promise<void> => {
    const id = `${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}|${providerKey}`;
    const hash = hashOf(obj);
    if (!force && applied.get(id) === hash) return;
    try {
      await kube.apply(obj);
    } catch (err) {
      applied.delete(id);
      const hint = obj.kind === 'ScaledObject' && isNotFound(err) ? ' (is KEDA installed? PROVIDER_AGENT_AUTOSCALER=keda needs its CRDs)' : '';
      throw new Error(`${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name} not applied: ${(err as Error).message}${hint}`);
    }
    applied.set(id, hash);
  };

  /** The bus credentials Secret: minted when missing, from another signer, for other permissions, or a third from expiry. */
  const ensureNatsCreds = async (key: string, p: Provider): Promise<StatusInputs['natsCreds']> => {
    const signer = config.natsSigner;
    if (!signer) return undefined;
    const provider = { namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '' };
    const permissionsHash = hashOf(agentPermissions(provider, p.spec.type)).slice(0, 16);
    const issuer = signerPublicKey(signer);
    const existing = secrets.get(provider.namespace, names.natsCreds(p));
    const a = existing?.metadata?.annotations ?? {};
    const expiresAt = Date.parse(a[NATS_ANNOTATIONS.expiresAt] ?? '');
    const renewAt = expiresAt - config.credsValidityMs / 3;
    const owned = existing?.metadata?.ownerReferences?.some((o) => o.uid === p.metadata.uid) ?? false;
    if (existing && owned && a[NATS_ANNOTATIONS.issuer] === issuer && a[NATS_ANNOTATIONS.permissions] === permissionsHash && now() < renewAt) {
      queue.addAfter(key, Math.min(renewAt - now(), MAX_RENEW_DELAY_MS));
      return { issued: true, expiresAt: new Date(expiresAt).toISOString() };
    }
    try {
      const minted = await mintAgentCreds(signer, { ...provider, type: p.spec.type }, config.credsValidityMs, now());
      await applyOnce(key, natsCredsSecret(p, minted, issuer, permissionsHash) as Applied, true);
      log.info('bus credentials issued', { kind: 'Provider', ...provider, user: minted.userPublicKey, expiresAt: new Date(minted.expiresAt).toISOString() });
      queue.addAfter(key, Math.min(minted.expiresAt - config.credsValidityMs / 3 - now(), MAX_RENEW_DELAY_MS));
      return { issued: true, expiresAt: new Date(minted.expiresAt).toISOString() };
    } catch (err) {
      return { issued: false, message: `bus credentials not issued: ${(err as Error).message}` };
    }
  };

  const deploymentFacts = (p: Provider): DeploymentFacts | undefined => {
    const d = deployments.get(p.metadata.namespace ?? '', names.agent(p));
    if (!d || !d.metadata?.ownerReferences?.some((o) => o.uid === p.metadata.uid)) return undefined;
    const s = d.status ?? {};
    return {
      desired: d.spec?.replicas ?? 1,
      ready: s.readyReplicas ?? 0,
      available: s.availableReplicas ?? 0,
      updated: s.updatedReplicas ?? 0,
      current: (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0),
    };
  };

  const writeStatus = async (key: string, p: Provider, inputs: Omit<StatusInputs, 'provider' | 'now'>): Promise<void> => {
    const status = desiredStatus({ ...inputs, provider: p, now: timestamp(now()) });
    if (sameStatus(status, p.status)) return;
    const written = await kube.applyStatus(p, status);
    newest.set(key, written);
    const ready = findCondition(status.conditions, 'Ready');
    const before = lastReady.get(key) ?? findCondition(p.status?.conditions, 'Ready')?.status;
    if (ready && ready.status !== before) {
      lastReady.set(key, ready.status);
      recordEvent(written, ready.status === 'True' ? 'Normal' : 'Warning', ready.reason, ready.message);
    }
  };

  const recordEvent = (p: Provider, type: 'Normal' | 'Warning', reason: string, message: string) => {
    if (!deps.events) return;
    const namespace = p.metadata.namespace ?? '';
    const name = p.metadata.name ?? '';
    const at = new Date(now());
    const event: CoreV1Event = {
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { apiVersion: API_VERSION, kind: 'Provider', name, namespace, uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion },
      type, reason, message, count: 1, firstTimestamp: at, lastTimestamp: at,
      source: { component: config.fieldManager }, reportingComponent: config.fieldManager,
    };
    deps.events.createEvent(namespace, event).catch((err: unknown) => log.warn('event not recorded', { kind: 'Provider', namespace, name, reason, err }));
  };

  const finalize = async (key: string, p: Provider): Promise<void> => {
    if (!(p.metadata.finalizers ?? []).includes(PROVIDER_FINALIZER)) return;
    const users = vmUsers(key);
    if (users.length > 0) {
      await writeStatus(key, p, {
        credentialSecret: secrets.get(p.metadata.namespace ?? '', p.spec.credentialSecretRef.name) ? 'found' : 'missing',
        deployment: deploymentFacts(p), health: tracker.summary(key), connectedVMs: users.length, deletingWith: users,
      });
      return;
    }
    await kube.setFinalizers(p, (p.metadata.finalizers ?? []).filter((f) => f !== PROVIDER_FINALIZER));
    log.info('provider released; its agents go with it', { kind: 'Provider', ...parseKey(key) });
  };

  async function reconcile(key: string): Promise<void> {
    let p = current(key);
    if (!p) return;
    if (p.metadata.deletionTimestamp) {
      await finalize(key, p);
      queue.forget(key);
      return;
    }
    if (!(p.metadata.finalizers ?? []).includes(PROVIDER_FINALIZER)) {
      p = await kube.setFinalizers(p, [...(p.metadata.finalizers ?? []), PROVIDER_FINALIZER]);
      newest.set(key, p);
    }
    const namespace = p.metadata.namespace ?? '';
    const base = {
      health: tracker.summary(key),
      connectedVMs: vmUsers(key).length,
      credentialSecret: secrets.get(namespace, p.spec.credentialSecretRef.name) ? 'found' as const : 'missing' as const,
    };

    // A spec that cannot run creates nothing; the status says why.
    const refNamespace = p.spec.credentialSecretRef.namespace;
    const nameProblem = providerNameProblem(p.metadata.name ?? '');
    const invalid = nameProblem ? { reason: 'InvalidName', message: nameProblem }
      : !agentTypeOf(p.spec.type) ? { reason: 'UnsupportedProviderType', message: `VirtRigaud has no agent for provider type ${p.spec.type} (it runs vsphere, libvirt, qemu through libvirt, proxmox and mock)` }
        : refNamespace && refNamespace !== namespace ? { reason: 'CredentialSecretInOtherNamespace', message: `spec.credentialSecretRef names namespace ${refNamespace}; a Secret can only be mounted into pods of its own namespace, ${namespace}: copy it there` }
          : undefined;
    if (invalid) {
      await writeStatus(key, p, { ...base, invalid, deployment: deploymentFacts(p) });
      queue.forget(key);
      return;
    }
    if (!config.manageAgents) {
      // Agents run elsewhere: their bus credentials are still minted (for them to fetch), nothing else.
      await writeStatus(key, p, { ...base, externalAgents: true, natsCreds: await ensureNatsCreds(key, p) });
      queue.forget(key);
      return;
    }
    if (base.credentialSecret === 'missing') {
      // The agents would wait for a volume that does not exist: nothing is rolled out until it does.
      await writeStatus(key, p, { ...base, natsCreds: await ensureNatsCreds(key, p), deployment: deploymentFacts(p) });
      queue.forget(key);
      return;
    }

    const natsCreds = await ensureNatsCreds(key, p);
    const secretVersion = secrets.get(namespace, p.spec.credentialSecretRef.name)?.metadata?.resourceVersion ?? '';
    const deployment = agentDeployment(p, {
      image: config.agentImage ?? p.spec.runtime.image,
      natsUrl: config.agentNatsUrl,
      credentialSecretVersion: secretVersion,
      natsCreds: Boolean(config.natsSigner),
      autoscaled: Boolean(config.autoscaling),
    });
    let applyError: string | undefined;
    try {
      await applyOnce(key, agentServiceAccount(p) as Applied);
      await applyOnce(key, agentService(p) as Applied);
      // The Deployment is applied again when the live one is missing or has another template hash.
      const live = deployments.get(namespace, names.agent(p));
      const liveHash = live?.spec?.template?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
      await applyOnce(key, deployment as Applied, liveHash !== configHash(p, secretVersion));
      if (config.autoscaling) await applyOnce(key, agentScaledObject(p, config.autoscaling) as Applied);
    } catch (err) {
      applyError = (err as Error).message;
      log.warn('agent objects not applied', { kind: 'Provider', ...parseKey(key), err });
    }
    await writeStatus(key, p, { ...base, natsCreds, deployment: deploymentFacts(p), ...(applyError ? { applyError } : {}) });
    if (applyError) throw new Error(applyError);
    queue.forget(key);
  }

  // --- start -------------------------------------------------------------------------------
  tracker.start();
  const aborted = new Promise<'aborted'>((resolve) => {
    if (deps.signal?.aborted) resolve('aborted');
    deps.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  if ((await Promise.race([Promise.all(informers.map((i) => i.synced)), aborted])) === 'aborted') {
    tracker.stop();
    await Promise.all(informers.map((i) => i.stop()));
    kube.close();
    throw new Error('provider controller not started: the leadership term ended while its caches were filling');
  }
  queue.start();
  for (const p of providers.list()) enqueue(objectKey(p));
  log.info('provider controller started', { namespace: ns ?? '(all)', busCredentials: Boolean(config.natsSigner), autoscaler: config.autoscaling ? 'keda' : 'none' });

  let stopped = false;
  return {
    enqueue: (namespace, name) => enqueue(keyOf(namespace, name)),
    async stop() {
      if (stopped) return;
      stopped = true;
      tracker.stop();
      await queue.stop();
      await Promise.all(informers.map((i) => i.stop()));
      kube.close();
      log.info('provider controller stopped');
    },
  };
}

