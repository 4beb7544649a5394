/**
 * Dispatcher fixtures: one valid object per kind the dispatcher reads, plus overrides
 * (`aVM({ spec: { powerState: 'Off' } })`). Overrides merge deeply into plain objects; arrays
 * and scalars replace; an explicit `undefined` removes the field.
 */
import { API_VERSION } from '../../api/crd.ts';
import type { Provider, VirtualMachine, VMClass, VMImage, VMNetworkAttachment } from '../../api/objects.ts';
import type { Lookup, SecretReader } from '../../dispatcher/resolve/types.ts';

export const NS = 'apps';

export type Overrides<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: Overrides<T[K]> | undefined }
    : T;

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeInto(target: unknown, overrides: unknown): unknown {
  if (!isPlain(target) || !isPlain(overrides)) return structuredClone(overrides);
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete target[key];
    else target[key] = isPlain(value) && isPlain(target[key]) ? mergeInto(target[key], value) : structuredClone(value);
  }
  return target;
}

export function merged<T>(base: T, overrides?: Overrides<T>): T {
  const copy = structuredClone(base);
  return overrides === undefined ? copy : (mergeInto(copy, overrides) as T);
}

export function aProvider(overrides?: Overrides<Provider>): Provider {
  return merged<Provider>({
    apiVersion: API_VERSION,
    kind: 'Provider',
    metadata: { name: 'kvm', namespace: NS },
    spec: {
      type: 'libvirt',
      endpoint: 'qemu:///system',
      credentialSecretRef: { name: 'kvm-creds' },
      runtime: { image: 'example.com/virtrigaud/agent:1' },
    },
  }, overrides);
}

export function aVMClass(overrides?: Overrides<VMClass>): VMClass {
  return merged<VMClass>({
    apiVersion: API_VERSION,
    kind: 'VMClass',
    metadata: { name: 'small', namespace: NS, generation: 1 },
    spec: { cpu: 2, memory: '4Gi' },
  }, overrides);
}

export function aVMImage(overrides?: Overrides<VMImage>): VMImage {
  return merged<VMImage>({
    apiVersion: API_VERSION,
    kind: 'VMImage',
    metadata: { name: 'ubuntu', namespace: NS, generation: 1 },
    spec: { source: { libvirt: { url: 'https://images.example.com/ubuntu.qcow2', format: 'qcow2' } } },
  }, overrides);
}

export function aNetwork(overrides?: Overrides<VMNetworkAttachment>): VMNetworkAttachment {
  return merged<VMNetworkAttachment>({
    apiVersion: API_VERSION,
    kind: 'VMNetworkAttachment',
    metadata: { name: 'lan', namespace: NS, generation: 1 },
    spec: { network: { libvirt: { networkName: 'default' } } },
  }, overrides);
}

export function aVM(overrides?: Overrides<VirtualMachine>): VirtualMachine {
  return merged<VirtualMachine>({
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    metadata: { name: 'web', namespace: NS, uid: '0b7e1d2c-aaaa-4bbb-8ccc-000000000001', generation: 1, resourceVersion: '100' },
    spec: {
      providerRef: { name: 'kvm' },
      classRef: { name: 'small' },
      imageRef: { name: 'ubuntu' },
      powerState: 'On',
    },
  }, overrides);
}

/** A Lookup over fixed objects (keyed by namespace/name). */
export function lookupOf(objects: { providers?: Provider[]; classes?: VMClass[]; images?: VMImage[]; networks?: VMNetworkAttachment[] }): Lookup {
  const find = <T extends { metadata: { namespace?: string; name?: string } }>(list: T[] | undefined) =>
    (ns: string, name: string) => list?.find((o) => (o.metadata.namespace ?? '') === ns && o.metadata.name === name);
  return {
    provider: find(objects.providers),
    vmClass: find(objects.classes),
    vmImage: find(objects.images),
    network: find(objects.networks),
  };
}

/** The usual world: provider kvm, class small, image ubuntu, network lan. */
export function defaultLookup(): Lookup {
  return lookupOf({ providers: [aProvider()], classes: [aVMClass()], images: [aVMImage()], networks: [aNetwork()] });
}

/** Secrets held in memory: `{ 'ns/name': { key: 'value' } }`. */
export function secretsOf(secrets: Record<string, Record<string, string>>): SecretReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async read(ns, name) {
      reads.push(`${ns}/${name}`);
      const s = secrets[`${ns}/${name}`];
      if (!s) return undefined;
      return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, new TextEncoder().encode(v)]));
    },
  };
}
