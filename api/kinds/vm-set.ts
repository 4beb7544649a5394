import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { described, IntOrString, StringEnum } from '../schema/builders.ts';
import { EmbeddedObjectMeta, LabelSelector, PersistentVolumeClaimTemplate } from '../schema/k8s-core.ts';
import { Condition } from '../schema/shared.ts';
import { VirtualMachineSpec } from './virtual-machine.ts';

export const VMSetSpec = Type.Object({
  minReadySeconds: Type.Optional(Type.Integer({ description: "MinReadySeconds is the minimum number of seconds for which a newly created VM\nshould be ready without any of its containers crashing", format: "int32", maximum: 3600, minimum: 0 })),
  ordinals: Type.Optional(Type.Object({
    start: Type.Optional(Type.Integer({ description: "Start is the number representing the first replica's index", default: 0, format: "int32", maximum: 999999, minimum: 0 })),
  }, { description: "Ordinals configures the sequential ordering of VM indices" })),
  persistentVolumeClaimRetentionPolicy: Type.Optional(Type.Object({
    whenDeleted: Type.Optional(Type.String({ description: "WhenDeleted specifies what happens to PVCs created from VMSet VolumeClaimTemplates when the VMSet is deleted", allOf: [{"enum": ["Retain", "Delete"]}, {"enum": ["Retain", "Delete"]}], default: "Retain" })),
    whenScaled: Type.Optional(Type.String({ description: "WhenScaled specifies what happens to PVCs created from VMSet VolumeClaimTemplates when the VMSet is scaled down", allOf: [{"enum": ["Retain", "Delete"]}, {"enum": ["Retain", "Delete"]}], default: "Retain" })),
  }, { description: "PersistentVolumeClaimRetentionPolicy defines the retention policy for PVCs" })),
  replicas: Type.Optional(Type.Integer({ description: "Replicas is the desired number of VMs in the set", default: 1, format: "int32", maximum: 1000, minimum: 0 })),
  revisionHistoryLimit: Type.Optional(Type.Integer({ description: "RevisionHistoryLimit is the number of old VMSets to retain", default: 10, format: "int32", maximum: 100, minimum: 0 })),
  selector: LabelSelector,
  serviceName: Type.Optional(Type.String({ description: "ServiceName is the name of the service that governs this VMSet", maxLength: 253 })),
  template: Type.Object({
    metadata: Type.Optional(EmbeddedObjectMeta),
    spec: described(VirtualMachineSpec, "Spec is the VM specification"),
  }, { description: "Template is the object that describes the VM that will be created" }),
  updateStrategy: Type.Optional(Type.Object({
    rollingUpdate: Type.Optional(Type.Object({
      maxSurge: Type.Optional(IntOrString({ description: "MaxSurge is the maximum number of VMs that can be created above desired replica count", default: "25%" })),
      maxUnavailable: Type.Optional(IntOrString({ description: "MaxUnavailable is the maximum number of VMs that can be unavailable during update", default: "25%" })),
      partition: Type.Optional(Type.Integer({ description: "Partition indicates the ordinal at which the VMSet should be partitioned for updates", format: "int32", minimum: 0 })),
      podManagementPolicy: Type.Optional(Type.String({ description: "PodManagementPolicy controls how VMs are created during initial scale up,\nwhen replacing VMs on nodes, or when scaling down", allOf: [{"enum": ["OrderedReady", "Parallel"]}, {"enum": ["OrderedReady", "Parallel"]}], default: "OrderedReady" })),
    }, { description: "RollingUpdate is used when Type is RollingUpdate" })),
    type: Type.Optional(StringEnum(["RollingUpdate", "OnDelete", "Recreate"], { description: "Type can be \"RollingUpdate\" or \"OnDelete\"", default: "RollingUpdate" })),
  }, { description: "UpdateStrategy defines how to replace existing VMs with new ones" })),
  volumeClaimTemplates: Type.Optional(Type.Array(PersistentVolumeClaimTemplate, { description: "VolumeClaimTemplates defines a list of claims that VMs are allowed to reference", maxItems: 20 })),
}, { description: "VMSetSpec defines the desired state of VMSet" });
export type VMSetSpec = Static<typeof VMSetSpec>;

export const VMSetStatus = Type.Object({
  selector: Type.Optional(Type.String({ description: "Selector is spec.selector in label-query form, for the scale subresource (kubectl scale, HorizontalPodAutoscaler). Upstream's scale subresource pointed here but the field did not exist." })),
  availableReplicas: Type.Optional(Type.Integer({ description: "AvailableReplicas is the number of VMs that are available", format: "int32" })),
  collisionCount: Type.Optional(Type.Integer({ description: "CollisionCount is the count of hash collisions for the VMSet", format: "int32" })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the current service state" })),
  currentReplicas: Type.Optional(Type.Integer({ description: "CurrentReplicas is the number of VMs currently running", format: "int32" })),
  currentRevision: Type.Optional(Type.String({ description: "CurrentRevision is the revision of the current VMSet" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration is the most recent generation observed by the controller", format: "int64" })),
  readyReplicas: Type.Optional(Type.Integer({ description: "ReadyReplicas is the number of VMs that are ready", format: "int32" })),
  replicas: Type.Optional(Type.Integer({ description: "Replicas is the number of VMs created by the VMSet controller", format: "int32" })),
  updateRevision: Type.Optional(Type.String({ description: "UpdateRevision is the revision of the updated VMSet" })),
  updateStatus: Type.Optional(Type.Object({
    completionTime: Type.Optional(Type.String({ description: "CompletionTime is when the update completed", format: "date-time" })),
    failedVMs: Type.Optional(Type.Array(Type.Object({
      lastAttempt: Type.Optional(Type.String({ description: "LastAttempt is when the last update attempt was made", format: "date-time" })),
      message: Type.Optional(Type.String({ description: "Message provides additional details about the failure" })),
      name: Type.String({ description: "Name is the name of the failed VM" }),
      reason: Type.Optional(Type.String({ description: "Reason provides the reason for failure" })),
      retryCount: Type.Optional(Type.Integer({ description: "RetryCount is the number of retry attempts", format: "int32" })),
    }, { description: "VMSetFailedVM represents a VM that failed to update" }), { description: "FailedVMs lists VMs that failed to update", maxItems: 1000 })),
    message: Type.Optional(Type.String({ description: "Message provides additional details about the update" })),
    pendingVMs: Type.Optional(Type.Array(Type.String(), { description: "PendingVMs lists VMs that are pending update", maxItems: 1000 })),
    phase: Type.Optional(StringEnum(["Pending", "InProgress", "Paused", "Completed", "Failed"], { description: "Phase represents the current phase of the update" })),
    startTime: Type.Optional(Type.String({ description: "StartTime is when the update started", format: "date-time" })),
    updatedVMs: Type.Optional(Type.Array(Type.String(), { description: "UpdatedVMs lists VMs that have been updated", maxItems: 1000 })),
  }, { description: "UpdateStatus provides detailed update operation status" })),
  updatedReplicas: Type.Optional(Type.Integer({ description: "UpdatedReplicas is the number of VMs that have been updated", format: "int32" })),
  vmStatus: Type.Optional(Type.Array(Type.Object({
    creationTime: Type.Optional(Type.String({ description: "CreationTime is when the VM was created", format: "date-time" })),
    lastUpdateTime: Type.Optional(Type.String({ description: "LastUpdateTime is when the VM was last updated", format: "date-time" })),
    message: Type.Optional(Type.String({ description: "Message provides additional VM status information" })),
    name: Type.String({ description: "Name is the VM name" }),
    phase: Type.Optional(StringEnum(["Pending", "Provisioning", "Running", "Stopped", "Reconfiguring", "Deleting", "Failed"], { description: "Phase is the VM phase" })),
    ready: Type.Optional(Type.Boolean({ description: "Ready indicates if the VM is ready" })),
    revision: Type.Optional(Type.String({ description: "Revision is the VM revision" })),
  }, { description: "VMSetVMStatus provides per-VM status information" }), { description: "VMStatus provides per-VM status information", maxItems: 1000 })),
}, { description: "VMSetStatus defines the observed state of VMSet" });
export type VMSetStatus = Static<typeof VMSetStatus>;

export const vmSetCrd: CrdDefinition = {
  kind: 'VMSet',
  plural: 'vmsets',
  singular: 'vmset',
  shortNames: ['vmset'],
  description: 'A replicated set of VMs from one template, scalable with kubectl scale.',
  spec: VMSetSpec,
  status: VMSetStatus,
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  printerColumns: [
    { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Current', type: 'integer', jsonPath: '.status.replicas' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
    { name: 'Updated', type: 'integer', jsonPath: '.status.updatedReplicas' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
