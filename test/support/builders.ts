/**
 * Fixture builders: one valid object per kind plus overrides, as vm-operator's builders do —
 * `aVirtualMachine({ spec: { disks: [...] } })`. Overrides merge deeply into plain objects;
 * arrays and scalars replace; an explicit `undefined` removes the field.
 */
import { API_VERSION } from '../../api/crd.ts';
import type {
  AnyVirtRigaudObject, Provider, VirtualMachine, VMClass, VMClone, VMImage, VMMigration, VMNetworkAttachment,
  VMPlacementPolicy, VMSet, VMSnapshot,
} from '../../api/objects.ts';
import type { Lookup } from '../../webhook/framework/types.ts';

export const NAMESPACE = 'default';

/** Overrides for a fixture: any subset of its fields, at any depth (arrays whole). */
export type Overrides<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: Overrides<T[K]> | undefined }
    : T;

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `base` with `overrides` merged in (a fresh object; neither argument changes). */
export function merged<T>(base: T, overrides: Overrides<T> | undefined): T {
  const copy = structuredClone(base);
  if (overrides === undefined) return copy;
  return mergeInto(copy, overrides) as T;
}

function mergeInto(target: unknown, overrides: unknown): unknown {
  if (!isPlain(target) || !isPlain(overrides)) return structuredClone(overrides);
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete target[key];
    else target[key] = isPlain(value) && isPlain(target[key]) ? mergeInto(target[key], value) : structuredClone(value);
  }
  return target;
}

export function aProvider(overrides?: Overrides<Provider>): Provider {
  return merged<Provider>({
    apiVersion: API_VERSION,
    kind: 'Provider',
    metadata: { name: 'vsphere-prod', namespace: NAMESPACE },
    spec: {
      type: 'vsphere',
      endpoint: 'https://vcenter.example.com/sdk',
      credentialSecretRef: { name: 'vsphere-creds' },
      runtime: { image: 'ghcr.io/projectbeskar/virtrigaud/provider-vsphere:v0.2.3' },
    },
  }, overrides);
}

export function aVMClass(overrides?: Overrides<VMClass>): VMClass {
  return merged<VMClass>({
    apiVersion: API_VERSION,
    kind: 'VMClass',
    metadata: { name: 'small', namespace: NAMESPACE },
    spec: { cpu: 2, memory: '4Gi', firmware: 'BIOS' },
  }, overrides);
}

export function aVMImage(overrides?: Overrides<VMImage>): VMImage {
  return merged<VMImage>({
    apiVersion: API_VERSION,
    kind: 'VMImage',
    metadata: { name: 'ubuntu-22', namespace: NAMESPACE },
    spec: { source: { vsphere: { templateName: 'ubuntu-22.04-cloudimg' } } } as VMImage['spec'],
  }, overrides);
}

export function aNetworkAttachment(overrides?: Overrides<VMNetworkAttachment>): VMNetworkAttachment {
  return merged<VMNetworkAttachment>({
    apiVersion: API_VERSION,
    kind: 'VMNetworkAttachment',
    metadata: { name: 'app-net', namespace: NAMESPACE },
    spec: { network: { type: 'bridged', vsphere: { portgroup: 'VM Network' } } },
  }, overrides);
}

export function aPlacementPolicy(overrides?: Overrides<VMPlacementPolicy>): VMPlacementPolicy {
  return merged<VMPlacementPolicy>({
    apiVersion: API_VERSION,
    kind: 'VMPlacementPolicy',
    metadata: { name: 'spread', namespace: NAMESPACE },
    spec: {},
  }, overrides);
}

/** The spec of the default VM (also the default VMSet template's). */
function vmSpec(): VirtualMachine['spec'] {
  return {
    providerRef: { name: 'vsphere-prod' },
    classRef: { name: 'small' },
    imageRef: { name: 'ubuntu-22' },
  };
}

export function aVirtualMachine(overrides?: Overrides<VirtualMachine>): VirtualMachine {
  return merged<VirtualMachine>({
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    metadata: { name: 'web-1', namespace: NAMESPACE },
    spec: vmSpec(),
  }, overrides);
}

export function aVMSet(overrides?: Overrides<VMSet>): VMSet {
  return merged<VMSet>({
    apiVersion: API_VERSION,
    kind: 'VMSet',
    metadata: { name: 'web', namespace: NAMESPACE },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: vmSpec() },
    },
  }, overrides);
}

export function aVMSnapshot(overrides?: Overrides<VMSnapshot>): VMSnapshot {
  return merged<VMSnapshot>({
    apiVersion: API_VERSION,
    kind: 'VMSnapshot',
    metadata: { name: 'web-1-before-upgrade', namespace: NAMESPACE },
    spec: { vmRef: { name: 'web-1' } },
  }, overrides);
}

export function aVMClone(overrides?: Overrides<VMClone>): VMClone {
  return merged<VMClone>({
    apiVersion: API_VERSION,
    kind: 'VMClone',
    metadata: { name: 'web-1-clone', namespace: NAMESPACE },
    spec: { source: { vmRef: { name: 'web-1' } }, target: { name: 'web-2' } },
  }, overrides);
}

export function aVMMigration(overrides?: Overrides<VMMigration>): VMMigration {
  return merged<VMMigration>({
    apiVersion: API_VERSION,
    kind: 'VMMigration',
    metadata: { name: 'web-1-to-kvm', namespace: NAMESPACE },
    spec: { source: { vmRef: { name: 'web-1' } }, target: { name: 'web-1', providerRef: { name: 'kvm' } } },
  }, overrides);
}

/** What an in-memory Lookup holds. */
export interface LookupContents {
  providers?: readonly Provider[];
  classes?: readonly VMClass[];
  images?: readonly VMImage[];
  networks?: readonly VMNetworkAttachment[];
  policies?: readonly VMPlacementPolicy[];
  vms?: readonly VirtualMachine[];
}

function finder<T extends AnyVirtRigaudObject>(objects: readonly T[] | undefined): (namespace: string, name: string) => T | undefined {
  return (namespace, name) => (objects ?? []).find((o) => (o.metadata.namespace ?? '') === namespace && o.metadata.name === name);
}

/** A Lookup answering from the given objects, as the informer caches would. */
export function anInMemoryLookup(contents: LookupContents = {}): Lookup {
  return {
    provider: finder(contents.providers),
    vmClass: finder(contents.classes),
    vmImage: finder(contents.images),
    network: finder(contents.networks),
    placementPolicy: finder(contents.policies),
    virtualMachines: (namespace) => (contents.vms ?? []).filter((vm) => (vm.metadata.namespace ?? '') === namespace),
  };
}

/**
 * The Lookup of a namespace where the default VM's references all exist (provider, class, image,
 * network), with the given objects replacing or joining them by name.
 */
export function aWorld(contents: LookupContents = {}): Lookup {
  const byName = <T extends AnyVirtRigaudObject>(defaults: readonly T[], given: readonly T[] | undefined): T[] => {
    const extra = given ?? [];
    return [...defaults.filter((d) => !extra.some((g) => g.metadata.name === d.metadata.name && g.metadata.namespace === d.metadata.namespace)), ...extra];
  };
  return anInMemoryLookup({
    providers: byName([aProvider()], contents.providers),
    classes: byName([aVMClass()], contents.classes),
    images: byName([aVMImage()], contents.images),
    networks: byName([aNetworkAttachment()], contents.networks),
    policies: contents.policies ?? [],
    vms: contents.vms ?? [],
  });
}
