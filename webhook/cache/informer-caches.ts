/**
 * The webhook's informer caches: the six kinds the rules look up, watched in every namespace,
 * behind the rules' Lookup interface. Ready once every one has listed.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/crd.ts';
import type { Provider, VirtualMachine, VMClass, VMImage, VMNetworkAttachment, VMPlacementPolicy } from '../../api/objects.ts';
import { asKubeAuth, dropBookkeeping, KubeRest, startInformer, type AnyObject, type BackoffOptions, type Informer, type InformerEvent, type KubeAuth } from '../../kube/index.ts';
import type { Lookup } from '../framework/types.ts';
import { lookupFromStores, type LookupStores } from './lookup.ts';

export interface WebhookCachesOptions {
  kubeConfig: KubeConfig | KubeAuth;
  backoff?: BackoffOptions;
  onEvent?: (event: InformerEvent) => void;
}

export interface WebhookCaches {
  lookup: Lookup;
  /** Resolves once every cache holds its first full list. */
  synced(): Promise<void>;
  isSynced(): boolean;
  stop(): Promise<void>;
}

export function startWebhookCaches(opts: WebhookCachesOptions): WebhookCaches {
  const client = new KubeRest(asKubeAuth(opts.kubeConfig), { maxSockets: 6 });
  const informers: Informer<unknown>[] = [];
  // The apiserver's objects are ours by its schema validation: the cast is at that boundary.
  const watch = <T extends AnyObject>(kind: string, plural: string): Informer<T> => {
    const informer = startInformer<T>({
      kind,
      path: `/apis/${GROUP}/${VERSION}/${plural}`,
      client,
      backoff: opts.backoff,
      transform: dropBookkeeping,
      onEvent: opts.onEvent,
    });
    informers.push(informer);
    return informer;
  };
  const stores: LookupStores = {
    vmClasses: watch<VMClass>('VMClass', 'vmclasses'),
    placementPolicies: watch<VMPlacementPolicy>('VMPlacementPolicy', 'vmplacementpolicies'),
    providers: watch<Provider>('Provider', 'providers'),
    vmImages: watch<VMImage>('VMImage', 'vmimages'),
    networks: watch<VMNetworkAttachment>('VMNetworkAttachment', 'vmnetworkattachments'),
    virtualMachines: watch<VirtualMachine>('VirtualMachine', 'virtualmachines'),
  };
  const synced = Promise.all(informers.map((i) => i.synced)).then(() => undefined);
  return {
    lookup: lookupFromStores(stores),
    synced: () => synced,
    isSynced: () => informers.every((i) => i.isSynced()),
    stop: async () => {
      await Promise.all(informers.map((i) => i.stop()));
      client.close();
    },
  };
}
