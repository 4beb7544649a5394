/** The rules' Lookup over one Store per kind (informer caches in the process, memory stores in tests). */
import type { Provider, VirtualMachine, VMClass, VMImage, VMNetworkAttachment, VMPlacementPolicy } from '../../api/objects.ts';
import { MemoryStore, type Store } from '../../kube/index.ts';
import type { Lookup } from '../framework/types.ts';

export interface LookupStores {
  providers: Store<Provider>;
  vmClasses: Store<VMClass>;
  vmImages: Store<VMImage>;
  networks: Store<VMNetworkAttachment>;
  placementPolicies: Store<VMPlacementPolicy>;
  virtualMachines: Store<VirtualMachine>;
}

export function lookupFromStores(stores: LookupStores): Lookup {
  return {
    provider: (namespace, name) => stores.providers.get(namespace, name),
    vmClass: (namespace, name) => stores.vmClasses.get(namespace, name),
    vmImage: (namespace, name) => stores.vmImages.get(namespace, name),
    network: (namespace, name) => stores.networks.get(namespace, name),
    placementPolicy: (namespace, name) => stores.placementPolicies.get(namespace, name),
    virtualMachines: (namespace) => stores.virtualMachines.list(namespace),
  };
}

export interface MemoryLookupSeed {
  providers?: Provider[];
  vmClasses?: VMClass[];
  vmImages?: VMImage[];
  networks?: VMNetworkAttachment[];
  placementPolicies?: VMPlacementPolicy[];
  virtualMachines?: VirtualMachine[];
}

export interface MemoryStores {
  providers: MemoryStore<Provider>;
  vmClasses: MemoryStore<VMClass>;
  vmImages: MemoryStore<VMImage>;
  networks: MemoryStore<VMNetworkAttachment>;
  placementPolicies: MemoryStore<VMPlacementPolicy>;
  virtualMachines: MemoryStore<VirtualMachine>;
}

export type MemoryLookup = Lookup & { stores: MemoryStores };

/** A Lookup over memory stores seeded with `seed`; `stores` lets a test add or remove objects later. */
export function memoryLookup(seed: MemoryLookupSeed = {}): MemoryLookup {
  const stores: MemoryStores = {
    providers: new MemoryStore(seed.providers),
    vmClasses: new MemoryStore(seed.vmClasses),
    vmImages: new MemoryStore(seed.vmImages),
    networks: new MemoryStore(seed.networks),
    placementPolicies: new MemoryStore(seed.placementPolicies),
    virtualMachines: new MemoryStore(seed.virtualMachines),
  };
  return { ...lookupFromStores(stores), stores };
}
