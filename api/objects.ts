/**
 * The ten kinds as whole Kubernetes objects (apiVersion, kind, metadata, spec, status), typed
 * from the schemas in api/kinds. Webhook and dispatcher use these; agents never see them.
 */
import type { ProviderSpec, ProviderStatus } from './kinds/provider.ts';
import type { VirtualMachineSpec, VirtualMachineStatus } from './kinds/virtual-machine.ts';
import type { VMClassSpec, VMClassStatus } from './kinds/vm-class.ts';
import type { VMCloneSpec, VMCloneStatus } from './kinds/vm-clone.ts';
import type { VMImageSpec, VMImageStatus } from './kinds/vm-image.ts';
import type { VMMigrationSpec, VMMigrationStatus } from './kinds/vm-migration.ts';
import type { VMNetworkAttachmentSpec, VMNetworkAttachmentStatus } from './kinds/vm-network-attachment.ts';
import type { VMPlacementPolicySpec, VMPlacementPolicyStatus } from './kinds/vm-placement-policy.ts';
import type { VMSetSpec, VMSetStatus } from './kinds/vm-set.ts';
import type { VMSnapshotSpec, VMSnapshotStatus } from './kinds/vm-snapshot.ts';

/** The subset of ObjectMeta our code reads and writes. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}

export interface KubeObject<K extends string, Spec, Status> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type Provider = KubeObject<'Provider', ProviderSpec, ProviderStatus>;
export type VirtualMachine = KubeObject<'VirtualMachine', VirtualMachineSpec, VirtualMachineStatus>;
export type VMClass = KubeObject<'VMClass', VMClassSpec, VMClassStatus>;
export type VMClone = KubeObject<'VMClone', VMCloneSpec, VMCloneStatus>;
export type VMImage = KubeObject<'VMImage', VMImageSpec, VMImageStatus>;
export type VMMigration = KubeObject<'VMMigration', VMMigrationSpec, VMMigrationStatus>;
export type VMNetworkAttachment = KubeObject<'VMNetworkAttachment', VMNetworkAttachmentSpec, VMNetworkAttachmentStatus>;
export type VMPlacementPolicy = KubeObject<'VMPlacementPolicy', VMPlacementPolicySpec, VMPlacementPolicyStatus>;
export type VMSet = KubeObject<'VMSet', VMSetSpec, VMSetStatus>;
export type VMSnapshot = KubeObject<'VMSnapshot', VMSnapshotSpec, VMSnapshotStatus>;

export type AnyVirtRigaudObject =
  | Provider | VirtualMachine | VMClass | VMClone | VMImage
  | VMMigration | VMNetworkAttachment | VMPlacementPolicy | VMSet | VMSnapshot;

/** Well-known labels and annotations (the original's names, so existing objects keep working). */
export const LABEL_PROVIDER = 'virtrigaud.io/provider';
export const LABEL_CLASS = 'virtrigaud.io/class';
export const ANNOTATION_FORCE_DELETE = 'virtrigaud.io/force-delete';
/**
 * The finalizer the dispatcher keeps on a VirtualMachine until an agent reports the VM gone from
 * the hypervisor (the original's name, so objects it created keep being cleaned up).
 */
export const FINALIZER_VM = 'virtualmachine.infra.virtrigaud.io/finalizer';
/**
 * Adopt an existing hypervisor VM instead of creating one: the value is its hypervisor id (domain
 * UUID, managed object reference, VMID). The agent writes the object's UID onto that VM.
 */
export const ANNOTATION_ADOPT_ID = 'virtrigaud.io/adopt-id';
/** "true": deleting the object destroys an adopted VM too (by default it is only released). */
export const ANNOTATION_DESTROY_ADOPTED = 'virtrigaud.io/destroy-adopted';
