import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { described, immutable, IntOrString, StringEnum, StringMap, validated } from '../schema/builders.ts';
import { Condition, DiskSpec, NamespacedObjectReference, VMNetworkRef } from '../schema/shared.ts';

export const VMMigrationSpec = Type.Object({
  metadata: Type.Optional(Type.Object({
    createdBy: Type.Optional(Type.String({ description: "CreatedBy identifies who or what created the migration", maxLength: 255 })),
    environment: Type.Optional(StringEnum(["dev", "staging", "prod", "test", "qa", "uat"], { description: "Environment specifies the environment" })),
    project: Type.Optional(Type.String({ description: "Project identifies the project this migration belongs to", maxLength: 255 })),
    purpose: Type.Optional(StringEnum(["disaster-recovery", "cloud-migration", "provider-change", "testing", "maintenance"], { description: "Purpose describes the purpose of the migration" })),
    tags: Type.Optional(StringMap(Type.String(), { description: "Tags are key-value pairs for categorizing the migration", maxProperties: 50 })),
  }, { description: "Metadata contains migration metadata" })),
  options: Type.Optional(Type.Object({
    cleanupPolicy: Type.Optional(StringEnum(["Always", "OnSuccess", "Never"], { description: "CleanupPolicy defines cleanup behavior", default: "OnSuccess" })),
    compress: Type.Optional(Type.Boolean({ description: "Compress enables compression during transfer", default: false })),
    diskFormat: Type.Optional(StringEnum(["qcow2", "vmdk", "raw"], { description: "DiskFormat specifies the desired disk format for the target" })),
    retryPolicy: Type.Optional(Type.Object({
      backoffMultiplier: Type.Optional(Type.Integer({ description: "BackoffMultiplier is the multiplier for exponential backoff", default: 2, format: "int32", maximum: 10, minimum: 1 })),
      maxRetries: Type.Optional(Type.Integer({ description: "MaxRetries is the maximum number of retry attempts", default: 3, format: "int32", maximum: 10, minimum: 0 })),
      retryDelay: Type.Optional(Type.String({ description: "RetryDelay is the delay between retry attempts", default: "5m" })),
    }, { description: "RetryPolicy defines retry behavior for failed operations" })),
    timeout: Type.Optional(Type.String({ description: "Timeout defines the maximum time for the entire migration", default: "4h" })),
    validationChecks: Type.Optional(Type.Object({
      checkBoot: Type.Optional(Type.Boolean({ description: "CheckBoot verifies VM boots successfully", default: false })),
      checkChecksum: Type.Optional(Type.Boolean({ description: "CheckChecksum verifies checksums match", default: true })),
      checkConnectivity: Type.Optional(Type.Boolean({ description: "CheckConnectivity tests network connectivity", default: false })),
      checkDiskSize: Type.Optional(Type.Boolean({ description: "CheckDiskSize verifies disk size matches", default: true })),
    }, { description: "ValidationChecks defines validation checks to perform" })),
    verifyChecksums: Type.Optional(Type.Boolean({ description: "VerifyChecksums enables checksum verification", default: true })),
  }, { description: "Options defines migration options" })),
  source: Type.Object({
    createSnapshot: Type.Optional(Type.Boolean({ description: "CreateSnapshot indicates whether to create a snapshot before migration.\nNOTE: no `omitempty` — a defaulted (+kubebuilder:default=true) non-pointer\nbool with omitempty silently flips an explicit `false` back to `true` on any\ncontroller round-trip (omitempty drops false, the apiserver re-defaults), so\n`createSnapshot: false` would be impossible to set (same footgun as #235).", default: true })),
    deleteAfterMigration: Type.Optional(Type.Boolean({ description: "DeleteAfterMigration deletes source VM after successful migration", default: false })),
    powerOffBeforeMigration: Type.Optional(Type.Boolean({ description: "PowerOffBeforeMigration ensures VM is powered off before migration", default: false })),
    providerRef: Type.Optional(described(NamespacedObjectReference, "ProviderRef explicitly specifies the source provider (optional, auto-detected from VM)")),
    snapshotRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "SnapshotRef references a specific snapshot to migrate from" })),
    vmRef: Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "VMRef references the source virtual machine" }),
  }, { description: "Source defines the source VM to migrate from" }),
  storage: Type.Optional(Type.Object({
    nfs: Type.Optional(Type.Object({
      export: Type.String({ description: "Export is the exported NFS path on the server (e.g. \"/exports/migrations\").", maxLength: 4096 }),
      gid: Type.Optional(Type.Integer({ description: "GID is the AUTH_SYS group ID presented to the NFS server (ADR-0006 C5).\nUnset = the data-plane process identity.", format: "int64", maximum: 4294967295, minimum: 0 })),
      path: Type.Optional(Type.String({ description: "Path is an optional sub-path within the export for this migration's data.", maxLength: 4096 })),
      readOnly: Type.Optional(Type.Boolean({ description: "ReadOnly mounts the export read-only. No `omitempty` (defaulted bool footgun, PR #235).", default: false })),
      server: Type.String({ description: "Server is the NFS server hostname or IP exporting the share. The host is\ngated by the controller's SSRF allowlist before it is dialed (ADR-0006 C3).", maxLength: 253 }),
      uid: Type.Optional(Type.Integer({ description: "UID is the AUTH_SYS user ID presented to the NFS server (ADR-0006 C5). The\nexport's squash policy is the real authorization boundary; this lets an\noperator align the client identity with the export. Unset = the data-plane\nprocess identity (the provider pod or SSH user).", format: "int64", maximum: 4294967295, minimum: 0 })),
    }, { description: "NFS specifies NFS-based staging configuration. Surface-only in ADR-0006\nSlice 0 (no transfer logic yet)." })),
    pvc: Type.Optional(Type.Object({
      accessMode: Type.Optional(StringEnum(["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"], { description: "AccessMode for auto-created PVC", default: "ReadWriteMany" })),
      mountPath: Type.Optional(Type.String({ description: "MountPath within pods where PVC is mounted", default: "/mnt/migration-storage" })),
      name: Type.Optional(Type.String({ description: "Name of an existing PVC to use for migration storage\nIf not specified, a temporary PVC will be created" })),
      size: Type.Optional(Type.String({ description: "Size for auto-created PVC (e.g., \"100Gi\")\nRequired if Name is not specified", pattern: "^[0-9]+(\\.[0-9]+)?(Ei?|Pi?|Ti?|Gi?|Mi?|Ki?)$" })),
      storageClassName: Type.Optional(Type.String({ description: "StorageClassName for auto-created PVC\nRequired if Name is not specified" })),
    }, { description: "PVC specifies PVC-based storage configuration" })),
    s3: Type.Optional(Type.Object({
      bucket: Type.String({ description: "Bucket is the S3 bucket for the transfer object." }),
      credentialsSecretRef: described(NamespacedObjectReference, "CredentialsSecretRef references a Secret holding the S3 credentials\n(access key / secret / optional session token). Credentials are NEVER inline."),
      endpoint: Type.Optional(Type.String({ description: "Endpoint overrides the S3 endpoint (empty = AWS default; set for MinIO/Ceph RGW).\nThe host is gated by the controller's SSRF allowlist before it is dialed\n(ADR-0006 C3). MaxLength bounds an apiserver-side payload.", maxLength: 263 })),
      prefix: Type.Optional(Type.String({ description: "Prefix is the key prefix for this migration's objects." })),
      region: Type.Optional(Type.String({ description: "Region is the S3 region for the bucket (empty = provider/SDK default)." })),
      usePathStyle: Type.Optional(Type.Boolean({ description: "UsePathStyle selects path-style addressing (needed by most non-AWS S3).\nNo `omitempty`: defaulted bool footgun (see PR #235 / ProviderTLSSpec.Enabled) —\nomitempty drops an explicit false and the apiserver re-defaults it.", default: false })),
    }, { description: "S3 specifies S3-compatible object-storage staging configuration.\nSurface-only in ADR-0006 Slice 0 (no transfer logic yet)." })),
    transferMode: Type.Optional(StringEnum(["auto", "relay", "direct"], { description: "TransferMode selects how disk bytes travel to/from the staging backend.\n\"relay\" routes bytes host→provider-pod→backend (today's pod-side path);\n\"direct\" routes bytes host→backend without a provider-pod hop; \"auto\"\nlets the controller pick based on what both providers advertise. Only\n\"relay\" is implemented today (ADR-0006 Slice 0).", default: "auto" })),
    type: StringEnum(["pvc", "nfs", "s3"], { description: "Type specifies the storage backend type used to stage the transferred\ndisk between the source and target providers. \"pvc\" is the only backend\nwith transfer logic today; \"nfs\" and \"s3\" are surface-only scaffolding\n(ADR-0006 Slice 0) and are rejected at the Validating phase until the\ncorresponding transfer slices land.", default: "pvc" }),
  }, { description: "Storage defines storage backend configuration for transfer" })),
  target: Type.Object({
    annotations: Type.Optional(StringMap(Type.String(), { description: "Annotations defines annotations to apply to the target VM", maxProperties: 50 })),
    classRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "ClassRef references the VM class for resource allocation" })),
    disks: Type.Optional(Type.Array(DiskSpec, { description: "Disks defines disk configuration overrides", maxItems: 20 })),
    imageRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "ImageRef references the VM image (usually not needed for migration)" })),
    labels: Type.Optional(StringMap(Type.String(), { description: "Labels defines labels to apply to the target VM", maxProperties: 50 })),
    name: Type.String({ description: "Name is the name for the target VM", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    namespace: Type.Optional(Type.String({ description: "Namespace is the namespace for the target VM (defaults to source namespace)", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" })),
    networks: Type.Optional(Type.Array(VMNetworkRef, { description: "Networks defines network configuration for target VM", maxItems: 10 })),
    placementRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "PlacementRef references placement policy for the target VM" })),
    powerOn: Type.Optional(Type.Boolean({ description: "PowerOn indicates whether to power on the target VM after migration", default: false })),
    providerRef: described(NamespacedObjectReference, "ProviderRef references the target provider"),
  }, { description: "Target defines the target provider and configuration" }),
}, { description: "VMMigrationSpec defines the desired state of VMMigration" });
export type VMMigrationSpec = Static<typeof VMMigrationSpec>;

export const VMMigrationStatus = Type.Object({
  completionTime: Type.Optional(Type.String({ description: "CompletionTime is when the migration completed", format: "date-time" })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the current service state" })),
  diskInfo: Type.Optional(Type.Object({
    checksum: Type.Optional(Type.String({ description: "Checksum is the SHA256 checksum of the disk" })),
    sourceChecksum: Type.Optional(Type.String({ description: "SourceChecksum is the SHA256 checksum of the source disk" })),
    sourceDiskID: Type.Optional(Type.String({ description: "SourceDiskID is the source disk identifier" })),
    sourceFormat: Type.Optional(Type.String({ description: "SourceFormat is the source disk format" })),
    sourceSize: Type.Optional(IntOrString({ description: "SourceSize is the source disk size in bytes", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
    targetChecksum: Type.Optional(Type.String({ description: "TargetChecksum is the SHA256 checksum of the target disk" })),
    targetDiskID: Type.Optional(Type.String({ description: "TargetDiskID is the target disk identifier" })),
    targetFormat: Type.Optional(Type.String({ description: "TargetFormat is the target disk format" })),
    targetPath: Type.Optional(Type.String({ description: "TargetPath is the provider-native path of the imported disk as returned by\nthe target provider's ImportDisk (e.g. \"[datastore1] disk-id/disk-id.vmdk\"\nfor vSphere, \"/var/lib/libvirt/images/disk-id.qcow2\" for libvirt). It is\nthe authoritative location the created target VirtualMachine attaches; the\ncontroller copies it into Spec.ImportedDisk.Path. Empty until the import\ncompletes (ADR-0006 Slice 2)." })),
    targetSize: Type.Optional(IntOrString({ description: "TargetSize is the target disk size in bytes", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
  }, { description: "DiskInfo contains information about the migrated disk" })),
  exportID: Type.Optional(Type.String({ description: "ExportID is the export operation identifier" })),
  importID: Type.Optional(Type.String({ description: "ImportID is the import operation identifier" })),
  lastRetryTime: Type.Optional(Type.String({ description: "LastRetryTime is when the migration was last retried", format: "date-time" })),
  message: Type.Optional(Type.String({ description: "Message provides additional details about the current state" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  phase: Type.Optional(StringEnum(["Pending", "Validating", "Snapshotting", "Exporting", "Transferring", "Converting", "Importing", "Creating", "Validating-Target", "Ready", "Failed"], { description: "Phase represents the current phase of the migration" })),
  progress: Type.Optional(Type.Object({
    currentPhase: Type.Optional(StringEnum(["Pending", "Validating", "Snapshotting", "Exporting", "Transferring", "Converting", "Importing", "Creating", "Validating-Target", "Ready", "Failed"], { description: "CurrentPhase is the current phase being executed" })),
    eta: Type.Optional(Type.String({ description: "ETA is the estimated time to completion" })),
    percentage: Type.Optional(Type.Integer({ description: "Percentage is the overall completion percentage (0-100)", format: "int32", maximum: 100, minimum: 0 })),
    phaseStartTime: Type.Optional(Type.String({ description: "PhaseStartTime is when the current phase started", format: "date-time" })),
    totalBytes: Type.Optional(Type.Integer({ description: "TotalBytes is the total bytes to transfer", format: "int64" })),
    transferRate: Type.Optional(Type.Integer({ description: "TransferRate is the current transfer rate in bytes per second", format: "int64" })),
    transferredBytes: Type.Optional(Type.Integer({ description: "TransferredBytes is the bytes transferred so far", format: "int64" })),
  }, { description: "Progress shows the migration operation progress" })),
  retryCount: Type.Optional(Type.Integer({ description: "RetryCount is the number of times the migration has been retried", format: "int32" })),
  snapshotID: Type.Optional(Type.String({ description: "SnapshotID is the provider-specific snapshot identifier" })),
  snapshotRef: Type.Optional(Type.String({ description: "SnapshotRef references the source snapshot used for migration" })),
  startTime: Type.Optional(Type.String({ description: "StartTime is when the migration started", format: "date-time" })),
  storageInfo: Type.Optional(Type.Object({
    cleanedUp: Type.Optional(Type.Boolean({ description: "CleanedUp indicates if intermediate storage was cleaned up" })),
    size: Type.Optional(IntOrString({ description: "Size is the size of data in intermediate storage", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
    uploadedAt: Type.Optional(Type.String({ description: "UploadedAt is when the data was uploaded", format: "date-time" })),
    url: Type.Optional(Type.String({ description: "URL is the intermediate storage URL" })),
  }, { description: "StorageInfo contains information about intermediate storage" })),
  storagePVCName: Type.Optional(Type.String({ description: "StoragePVCName is the name of the PVC used for migration storage" })),
  targetVMID: Type.Optional(Type.String({ description: "TargetVMID is the provider-specific target VM identifier" })),
  targetVMRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "TargetVMRef references the created target VM" })),
  taskRef: Type.Optional(Type.String({ description: "TaskRef is the current task reference for async operations" })),
  validationResults: Type.Optional(Type.Object({
    bootSuccess: Type.Optional(Type.Boolean({ description: "BootSuccess indicates if the target VM booted successfully" })),
    checksumMatch: Type.Optional(Type.Boolean({ description: "ChecksumMatch indicates if checksums match" })),
    connectivitySuccess: Type.Optional(Type.Boolean({ description: "ConnectivitySuccess indicates if network connectivity works" })),
    diskSizeMatch: Type.Optional(Type.Boolean({ description: "DiskSizeMatch indicates if disk sizes match" })),
    validationErrors: Type.Optional(Type.Array(Type.String(), { description: "ValidationErrors lists any validation errors" })),
  }, { description: "ValidationResults contains results of validation checks" })),
}, { description: "VMMigrationStatus defines the observed state of VMMigration" });
export type VMMigrationStatus = Static<typeof VMMigrationStatus>;

export const vmMigrationCrd: CrdDefinition = {
  kind: 'VMMigration',
  plural: 'vmmigrations',
  singular: 'vmmigration',
  shortNames: ['vmmig'],
  description: 'A migration of a VM to another provider or VM, through exported disks.',
  spec: validated(VMMigrationSpec, immutable(undefined, 'a migration runs once as specified; create another VMMigration to change it')),
  status: VMMigrationStatus,
  printerColumns: [
    { name: 'Source', type: 'string', jsonPath: '.spec.source.vmRef.name' },
    { name: 'Target', type: 'string', jsonPath: '.spec.target.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Progress', type: 'string', jsonPath: '.status.progress.percentage' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
