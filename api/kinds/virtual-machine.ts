import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { described, immutable, StringEnum, StringMap, validated } from '../schema/builders.ts';
import { Condition, DiskSpec, ImportedDiskSpec, MetaDataSpec, NamespacedObjectReference, PlacementSpec, SnapshotOperation, UserDataSpec, VMLifecycle, VMNetworkRef, VirtualMachineResources } from '../schema/shared.ts';

export const VirtualMachineSpec = validated(Type.Object({
  classRef: described(NamespacedObjectReference, "ClassRef references the VMClass that defines resource allocation"),
  disks: Type.Optional(Type.Array(DiskSpec, { description: "Disks specifies additional disks beyond the root disk", maxItems: 20 })),
  imageRef: Type.Optional(described(NamespacedObjectReference, "ImageRef references the VMImage to use as base template.\nEither ImageRef or ImportedDisk must be specified, but not both.")),
  importedDisk: Type.Optional(ImportedDiskSpec),
  lifecycle: Type.Optional(VMLifecycle),
  metaData: Type.Optional(MetaDataSpec),
  networks: Type.Optional(Type.Array(VMNetworkRef, { description: "Networks specifies network attachments for the VM", maxItems: 10 })),
  placement: Type.Optional(PlacementSpec),
  placementRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "PlacementRef references a VMPlacementPolicy for advanced placement rules" })),
  powerState: Type.Optional(StringEnum(["On", "Off", "OffGraceful"], { description: "PowerState specifies the desired power state" })),
  providerRef: described(NamespacedObjectReference, "ProviderRef references the Provider that manages this VM"),
  resources: Type.Optional(VirtualMachineResources),
  snapshot: Type.Optional(SnapshotOperation),
  tags: Type.Optional(Type.Array(Type.String(), { description: "Tags are applied to the VM for organization", maxItems: 50 })),
  userData: Type.Optional(UserDataSpec),
}, { description: "VirtualMachineSpec defines the desired state of VirtualMachine." }), {
  rule: 'has(self.imageRef) != has(self.importedDisk)',
  message: 'exactly one of imageRef (boot from a VMImage) or importedDisk (attach a migrated disk) must be set',
});
export type VirtualMachineSpec = Static<typeof VirtualMachineSpec>;

export const VirtualMachineStatus = Type.Object({
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the latest available observations" })),
  consoleURL: Type.Optional(Type.String({ description: "ConsoleURL provides access to the VM console" })),
  currentResources: Type.Optional(described(VirtualMachineResources, "CurrentResources shows the current resource allocation")),
  id: Type.Optional(Type.String({ description: "ID is the provider-specific identifier for this VM" })),
  ips: Type.Optional(Type.Array(Type.String(), { description: "IPs contains the IP addresses assigned to the VM" })),
  lastCommand: Type.Optional(Type.Object({
    deliveryExhaustedAt: Type.Optional(Type.String({ description: "DeliveryExhaustedAt is set when the bus gave up delivering this command to the provider's agents (max deliveries reached); the dispatcher publishes it again later under a new id", format: "date-time" })),
    desiredHash: Type.String({ description: "DesiredHash is a SHA-256 over the resolved desired state (class, image, networks, disks, cloud-init, placement, power) this command carried; a reconcile whose hash and generation match publishes nothing", maxLength: 64 }),
    generation: Type.Integer({ description: "Generation is the metadata.generation the command was made from", format: "int64" }),
    id: Type.String({ description: "ID is the command id, also its Nats-Msg-Id (a republished command is dropped by the bus)", maxLength: 200 }),
    operation: StringEnum(["Reconcile", "Delete"], { description: "Operation is what the command asked the agent to do" }),
    publishedAt: Type.String({ description: "PublishedAt is when the bus stored the command", format: "date-time" }),
    sequence: Type.Integer({ description: "Sequence counts the commands published for this VM; the next command id is derived from it, so a republish after a crash reuses the same id", format: "int64", minimum: 1 }),
    streamSequence: Type.Optional(Type.Integer({ description: "StreamSequence is the command's sequence in the VR_COMMANDS stream (to match the bus's max-deliveries advisory)", format: "int64" })),
  }, { description: "LastCommand records the last command the dispatcher published for this VM, so a restarted dispatcher publishes nothing when nothing changed" })),
  lastReconfigureTime: Type.Optional(Type.String({ description: "LastReconfigureTime records when the last reconfiguration occurred", format: "date-time" })),
  lastTaskRef: Type.Optional(Type.String({ description: "LastTaskRef references the last async operation" })),
  message: Type.Optional(Type.String({ description: "Message provides additional details about the current state" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  phase: Type.Optional(StringEnum(["Pending", "Provisioning", "Running", "Stopped", "Reconfiguring", "Deleting", "Failed"], { description: "Phase represents the current phase of the VM" })),
  powerState: Type.Optional(StringEnum(["On", "Off", "OffGraceful"], { description: "PowerState reflects the current power state" })),
  provider: Type.Optional(StringMap(Type.String(), { description: "Provider contains provider-specific details", "x-kubernetes-preserve-unknown-fields": true })),
  reconfigureTaskRef: Type.Optional(Type.String({ description: "ReconfigureTaskRef tracks reconfiguration operations" })),
  snapshots: Type.Optional(Type.Array(Type.Object({
    creationTime: Type.String({ description: "CreationTime is when the snapshot was created", format: "date-time" }),
    description: Type.Optional(Type.String({ description: "Description provides additional context" })),
    hasMemory: Type.Optional(Type.Boolean({ description: "HasMemory indicates if memory state is included" })),
    id: Type.String({ description: "ID is the provider-specific snapshot identifier" }),
    name: Type.String({ description: "Name is the snapshot name" }),
    sizeBytes: Type.Optional(Type.Integer({ description: "SizeBytes is the size of the snapshot", format: "int64" })),
  }, { description: "VMSnapshotInfo provides information about a VM snapshot" }), { description: "Snapshots lists available snapshots for this VM" })),
}, { description: "VirtualMachineStatus defines the observed state of VirtualMachine." });
export type VirtualMachineStatus = Static<typeof VirtualMachineStatus>;

export const virtualMachineCrd: CrdDefinition = {
  kind: 'VirtualMachine',
  plural: 'virtualmachines',
  singular: 'virtualmachine',
  shortNames: ['vm'],
  description: 'A virtual machine on the hypervisor of its Provider, converged to this declared state.',
  // Upstream declared a scale subresource on .spec.replicas/.status.replicas, fields a VM does not
  // have; ours has none (use a VMSet to scale).
  spec: validated(
    VirtualMachineSpec,
    immutable('providerRef', 'use a VMMigration to move a VM to another provider'),
    immutable('importedDisk', 'the VM was created from that disk'),
    {
      rule: '!has(self.disks) || !has(oldSelf.disks) || self.disks.all(d, oldSelf.disks.all(o, o.name != d.name || d.sizeGiB >= o.sizeGiB))',
      message: 'disks[].sizeGiB may grow but never shrink (a disk keeps its data; shrinking would lose it)',
      fieldPath: '.disks',
    },
  ),
  status: VirtualMachineStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Provider', type: 'string', jsonPath: '.spec.providerRef.name' },
    { name: 'Class', type: 'string', jsonPath: '.spec.classRef.name' },
    { name: 'Image', type: 'string', jsonPath: '.spec.imageRef.name' },
    { name: 'IPs', type: 'string', jsonPath: '.status.ips[*]' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
