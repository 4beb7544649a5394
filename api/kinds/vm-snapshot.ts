import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { IntOrString, StringEnum, StringMap } from '../schema/builders.ts';
import { Condition } from '../schema/shared.ts';

export const VMSnapshotSpec = Type.Object({
  metadata: Type.Optional(Type.Object({
    application: Type.Optional(Type.String({ description: "Application specifies the application that created the snapshot", maxLength: 255 })),
    environment: Type.Optional(StringEnum(["dev", "staging", "prod", "test", "qa", "uat"], { description: "Environment specifies the environment" })),
    pinned: Type.Optional(Type.Boolean({ description: "Pinned indicates whether the snapshot is pinned (protected from automatic deletion)", default: false })),
    purpose: Type.Optional(StringEnum(["backup", "testing", "migration", "restore-point", "update", "other"], { description: "Purpose describes the purpose of the snapshot" })),
    tags: Type.Optional(StringMap(Type.String(), { description: "Tags are key-value pairs for categorizing the snapshot", maxProperties: 50 })),
  }, { description: "Metadata contains snapshot metadata" })),
  retentionPolicy: Type.Optional(Type.Object({
    deleteOnVMDelete: Type.Optional(Type.Boolean({ description: "DeleteOnVMDelete indicates whether to delete snapshot when VM is deleted", default: true })),
    gracePeriod: Type.Optional(Type.String({ description: "GracePeriod is the grace period before deletion", default: "24h" })),
    maxAge: Type.Optional(Type.String({ description: "MaxAge is the maximum age before snapshot should be deleted" })),
    maxCount: Type.Optional(Type.Integer({ description: "MaxCount is the maximum number of snapshots to retain", format: "int32", maximum: 100, minimum: 1 })),
    preservePinned: Type.Optional(Type.Boolean({ description: "PreservePinned indicates whether to preserve pinned snapshots", default: true })),
  }, { description: "RetentionPolicy defines how long to keep this snapshot" })),
  schedule: Type.Optional(Type.Object({
    concurrencyPolicy: Type.Optional(StringEnum(["Allow", "Forbid", "Replace"], { description: "ConcurrencyPolicy specifies how to handle concurrent snapshot jobs", default: "Forbid" })),
    cronSpec: Type.Optional(Type.String({ description: "CronSpec defines the schedule in cron format", pattern: "^(@(annually|yearly|monthly|weekly|daily|hourly|reboot))|(@every (\\d+(ns|us|µs|ms|s|m|h))+)|((((\\d+,)+\\d+|(\\d+(\\/|-)\\d+)|\\d+|\\*) ?){5,7})$" })),
    enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates if scheduled snapshots are enabled", default: false })),
    failedJobsHistoryLimit: Type.Optional(Type.Integer({ description: "FailedJobsHistoryLimit limits retained failed jobs", default: 1, format: "int32", maximum: 100, minimum: 0 })),
    successfulJobsHistoryLimit: Type.Optional(Type.Integer({ description: "SuccessfulJobsHistoryLimit limits retained successful jobs", default: 3, format: "int32", maximum: 100, minimum: 0 })),
    suspend: Type.Optional(Type.Boolean({ description: "Suspend indicates whether to suspend scheduled snapshots", default: false })),
    timezone: Type.Optional(Type.String({ description: "Timezone specifies the timezone for the schedule", default: "UTC" })),
  }, { description: "Schedule defines automated snapshot scheduling" })),
  snapshotConfig: Type.Optional(Type.Object({
    compression: Type.Optional(Type.Boolean({ description: "Compression enables snapshot compression", default: false })),
    consistencyLevel: Type.Optional(StringEnum(["CrashConsistent", "FilesystemConsistent", "ApplicationConsistent"], { description: "ConsistencyLevel defines the consistency level required", default: "FilesystemConsistent" })),
    description: Type.Optional(Type.String({ description: "Description provides additional context for the snapshot", maxLength: 1024 })),
    encryption: Type.Optional(Type.Object({
      enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates if encryption should be used", default: false })),
      keyProvider: Type.Optional(StringEnum(["standard", "hardware", "external"], { description: "KeyProvider specifies the encryption key provider" })),
      keyRef: Type.Optional(Type.Object({
        name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
      }, { description: "KeyRef references encryption keys" })),
    }, { description: "Encryption enables snapshot encryption" })),
    includeMemory: Type.Optional(Type.Boolean({ description: "IncludeMemory indicates whether to include memory state in the snapshot", default: false })),
    name: Type.Optional(Type.String({ description: "Name provides a name hint for the snapshot (provider may modify)", maxLength: 255, pattern: "^[a-zA-Z0-9]([a-zA-Z0-9\\-_]*[a-zA-Z0-9])?$" })),
    quiesce: Type.Optional(Type.Boolean({ description: "Quiesce indicates whether to quiesce the file system before snapshotting", default: true })),
    type: Type.Optional(Type.String({ description: "Type specifies the snapshot type", allOf: [{"enum": ["Standard", "Crash", "Application"]}, {"enum": ["Standard", "Crash", "Application"]}], default: "Standard" })),
  }, { description: "SnapshotConfig defines snapshot configuration options" })),
  vmRef: Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "VMRef references the virtual machine to snapshot" }),
}, { description: "VMSnapshotSpec defines the desired state of VMSnapshot" });
export type VMSnapshotSpec = Static<typeof VMSnapshotSpec>;

export const VMSnapshotStatus = Type.Object({
  children: Type.Optional(Type.Array(Type.Object({
    name: Type.String({ description: "Name is the snapshot name" }),
    namespace: Type.Optional(Type.String({ description: "Namespace is the snapshot namespace" })),
    uid: Type.Optional(Type.String({ description: "UID is the snapshot UID" })),
  }, { description: "SnapshotRef references a snapshot" }), { description: "Children lists child snapshots (for snapshot trees)" })),
  completionTime: Type.Optional(Type.String({ description: "CompletionTime is when the snapshot creation completed", format: "date-time" })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the current service state" })),
  creationTime: Type.Optional(Type.String({ description: "CreationTime is when the snapshot was created", format: "date-time" })),
  expiryTime: Type.Optional(Type.String({ description: "ExpiryTime is when the snapshot will expire (based on retention policy)", format: "date-time" })),
  message: Type.Optional(Type.String({ description: "Message provides additional details about the current state" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  parent: Type.Optional(Type.Object({
    name: Type.String({ description: "Name is the snapshot name" }),
    namespace: Type.Optional(Type.String({ description: "Namespace is the snapshot namespace" })),
    uid: Type.Optional(Type.String({ description: "UID is the snapshot UID" })),
  }, { description: "Parent references the parent snapshot (for snapshot trees)" })),
  phase: Type.Optional(StringEnum(["Pending", "Creating", "Ready", "Deleting", "Failed", "Expired"], { description: "Phase represents the current phase of the snapshot" })),
  progress: Type.Optional(Type.Object({
    completedBytes: Type.Optional(Type.Integer({ description: "CompletedBytes is the number of bytes completed", format: "int64" })),
    eta: Type.Optional(Type.String({ description: "ETA is the estimated time to completion" })),
    percentage: Type.Optional(Type.Integer({ description: "Percentage is the completion percentage (0-100)", format: "int32", maximum: 100, minimum: 0 })),
    startTime: Type.Optional(Type.String({ description: "StartTime is when the snapshot creation started", format: "date-time" })),
    totalBytes: Type.Optional(Type.Integer({ description: "TotalBytes is the total number of bytes to snapshot", format: "int64" })),
  }, { description: "Progress shows the snapshot creation progress" })),
  providerStatus: Type.Optional(StringMap(Type.Object({
    available: Type.Boolean({ description: "Available indicates if the snapshot is available on this provider" }),
    id: Type.Optional(Type.String({ description: "ID is the provider-specific snapshot identifier" })),
    lastUpdated: Type.Optional(Type.String({ description: "LastUpdated is when the status was last updated", format: "date-time" })),
    message: Type.Optional(Type.String({ description: "Message provides provider-specific status information" })),
    path: Type.Optional(Type.String({ description: "Path is the provider-specific snapshot path" })),
    state: Type.Optional(Type.String({ description: "State is the provider-specific snapshot state" })),
  }, { description: "ProviderSnapshotStatus contains provider-specific snapshot status" }), { description: "ProviderStatus contains provider-specific status information" })),
  size: Type.Optional(IntOrString({ description: "Size is the size of the snapshot", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
  snapshotID: Type.Optional(Type.String({ description: "SnapshotID is the provider-specific identifier for the snapshot" })),
  taskRef: Type.Optional(Type.String({ description: "TaskRef tracks any ongoing async operations" })),
  virtualSize: Type.Optional(IntOrString({ description: "VirtualSize is the virtual size of the snapshot", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
}, { description: "VMSnapshotStatus defines the observed state of VMSnapshot" });
export type VMSnapshotStatus = Static<typeof VMSnapshotStatus>;

export const vmSnapshotCrd: CrdDefinition = {
  kind: 'VMSnapshot',
  plural: 'vmsnapshots',
  singular: 'vmsnapshot',
  shortNames: ['vmsnap'],
  description: 'A point-in-time snapshot of a VM (disks, optionally memory).',
  spec: VMSnapshotSpec,
  status: VMSnapshotStatus,
  printerColumns: [
    { name: 'VM', type: 'string', jsonPath: '.spec.vmRef.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Size', type: 'string', jsonPath: '.status.size' },
    { name: 'Created', type: 'date', jsonPath: '.status.creationTime' },
    { name: 'Expires', type: 'date', jsonPath: '.status.expiryTime' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
