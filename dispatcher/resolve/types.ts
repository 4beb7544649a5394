/** What resolving a VM's desired state reads, and what it answers. */
import type { Provider, VMClass, VMImage, VMNetworkAttachment } from '../../api/objects.ts';
import type { DesiredVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

/** The objects a VM refers to, read from the informer caches. */
export interface Lookup {
  provider(namespace: string, name: string): Provider | undefined;
  vmClass(namespace: string, name: string): VMClass | undefined;
  vmImage(namespace: string, name: string): VMImage | undefined;
  network(namespace: string, name: string): VMNetworkAttachment | undefined;
}

/** Secret data (decoded), read from the apiserver at dispatch time; undefined when absent. */
export interface SecretReader {
  read(namespace: string, name: string): Promise<Record<string, Uint8Array> | undefined>;
}

/** The Provider a command goes to. */
export interface ProviderTarget {
  namespace: string;
  name: string;
  /** vsphere, libvirt, proxmox, qemu, firecracker (or mock in tests). */
  type: string;
}

export type Resolution =
  | { kind: 'resolved'; desired: DesiredVM; provider: ProviderTarget }
  /** Something the VM refers to does not exist (yet); each entry names it, e.g. "VMClass ns/small". */
  | { kind: 'waiting'; missing: string[] }
  /** The spec cannot be turned into a desired state until it changes. */
  | { kind: 'invalid'; problems: string[] };

/** Collects what is missing and what is wrong while the parts are resolved. */
export class Problems {
  readonly missing: string[] = [];
  readonly invalid: string[] = [];
  miss(what: string): undefined {
    this.missing.push(what);
    return undefined;
  }
  bad(what: string): undefined {
    this.invalid.push(what);
    return undefined;
  }
}
