import { Type, type Static } from '@sinclair/typebox';
import { described, StringEnum, validated } from './builders.ts';

export const SnapshotOperation = Type.Object({
  revertToRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "RevertToRef specifies a snapshot to revert to" })),
}, { description: "Snapshot defines snapshot-related operations" });
export type SnapshotOperation = Static<typeof SnapshotOperation>;

export const SnapshotRequest = Type.Object({
  description: Type.Optional(Type.String({ description: "Description provides context for the snapshot" })),
  includeMemory: Type.Optional(Type.Boolean({ description: "IncludeMemory indicates whether to include memory state" })),
  name: Type.String({ description: "Name is the name hint for the snapshot" }),
}, { description: "Snapshot specifies a snapshot to create" });
export type SnapshotRequest = Static<typeof SnapshotRequest>;

export const NamespacedObjectReference = Type.Object({
  name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  namespace: Type.Optional(Type.String({ description: "Namespace of the referenced object (defaults to current namespace)", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" })),
}, { description: "CredentialSecretRef references the Secret containing credentials" });
export type NamespacedObjectReference = Static<typeof NamespacedObjectReference>;

export const CloudInitMetaData = Type.Object({
  inline: Type.Optional(Type.String({ description: "Inline contains inline cloud-init data" })),
  secretRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "SecretRef references a Secret containing cloud-init data" })),
}, { description: "CloudInit contains cloud-init configuration" });
export type CloudInitMetaData = Static<typeof CloudInitMetaData>;

export const IgnitionSpec = Type.Object({
  inline: Type.Optional(Type.String({ description: "Inline contains inline Ignition data" })),
  secretRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "SecretRef references a Secret containing Ignition data" })),
}, { description: "Ignition contains Ignition configuration for CoreOS/RHEL" });
export type IgnitionSpec = Static<typeof IgnitionSpec>;

export const GPUSpec = Type.Object({
  count: Type.Integer({ description: "Count specifies the number of GPUs to assign", format: "int32", maximum: 8, minimum: 1 }),
  memory: Type.Optional(Type.Integer({ description: "Memory specifies GPU memory in MiB", format: "int64", minimum: 512 })),
  type: Type.Optional(Type.String({ description: "Type specifies the GPU type (provider-specific)", pattern: "^[a-zA-Z0-9-_]+$" })),
}, { description: "GPU specifies GPU configuration" });
export type GPUSpec = Static<typeof GPUSpec>;

export const CloudInitUserData = Type.Object({
  inline: Type.Optional(Type.String({ description: "Inline contains inline cloud-init metadata in YAML format" })),
  secretRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "SecretRef references a Secret containing cloud-init metadata" })),
}, { description: "CloudInit contains cloud-init metadata configuration" });
export type CloudInitUserData = Static<typeof CloudInitUserData>;

export const LifecycleHTTPGet = Type.Object({
  host: Type.Optional(Type.String({ description: "Host name to connect to (defaults to VM IP)" })),
  path: Type.Optional(Type.String({ description: "Path is the HTTP path to access" })),
  port: Type.Integer({ description: "Port is the port to access", format: "int32", maximum: 65535, minimum: 1 }),
  scheme: Type.Optional(StringEnum(["HTTP", "HTTPS"], { description: "Scheme to use for connecting (HTTP or HTTPS)", default: "HTTP" })),
}, { description: "HTTPGet specifies an HTTP GET request" });
export type LifecycleHTTPGet = Static<typeof LifecycleHTTPGet>;

export const MetaDataSpec = Type.Object({
  cloudInit: Type.Optional(CloudInitUserData),
}, { description: "MetaData contains cloud-init metadata configuration" });
export type MetaDataSpec = Static<typeof MetaDataSpec>;

export const SCSIControllerSpec = Type.Object({
  controller: Type.Optional(Type.Integer({ description: "Controller specifies the SCSI controller bus number (0-3)\nIf not specified, uses the first available controller", format: "int32", maximum: 3, minimum: 0 })),
  controllerType: Type.Optional(StringEnum(["lsilogic", "buslogic", "lsilogic-sas", "pvscsi"], { description: "ControllerType specifies the SCSI controller type", default: "pvscsi" })),
  sharedBus: Type.Optional(StringEnum(["noSharing", "virtualSharing", "physicalSharing"], { description: "SharedBus specifies the SCSI bus sharing mode", default: "noSharing" })),
}, { description: "SCSI specifies SCSI controller configuration (vSphere only)" });
export type SCSIControllerSpec = Static<typeof SCSIControllerSpec>;

export const LabelSelectorRequirement = Type.Object({
  key: Type.String({ description: "key is the label key that the selector applies to." }),
  operator: Type.String({ description: "operator represents a key's relationship to a set of values.\nValid operators are In, NotIn, Exists and DoesNotExist." }),
  values: Type.Optional(Type.Array(Type.String(), { description: "values is an array of string values. If the operator is In or NotIn,\nthe values array must be non-empty. If the operator is Exists or DoesNotExist,\nthe values array must be empty. This array is replaced during a strategic\nmerge patch.", "x-kubernetes-list-type": "atomic" })),
}, { description: "A label selector requirement is a selector that contains values, a key, and an operator that\nrelates the key and values." });
export type LabelSelectorRequirement = Static<typeof LabelSelectorRequirement>;

export const PlacementSpec = Type.Object({
  cluster: Type.Optional(Type.String({ description: "Cluster specifies the target cluster" })),
  datastore: Type.Optional(Type.String({ description: "Datastore specifies the target datastore.\nMutually exclusive with StoragePod; Datastore takes precedence if both are set." })),
  folder: Type.Optional(Type.String({ description: "Folder specifies the target folder" })),
  host: Type.Optional(Type.String({ description: "Host specifies the target host" })),
  resourcePool: Type.Optional(Type.String({ description: "ResourcePool specifies the target resource pool" })),
  storagePod: Type.Optional(Type.String({ description: "StoragePod specifies a vSphere Datastore Cluster (StoragePod) to use for automatic\ndatastore selection. The provider will pick the datastore within the cluster that\nhas the most free space. Ignored when Datastore is also set." })),
}, { description: "Placement provides hints for VM placement" });
export type PlacementSpec = Static<typeof PlacementSpec>;

export const VirtualMachineResources = Type.Object({
  cpu: Type.Optional(Type.Integer({ description: "CPU specifies the number of virtual CPUs", format: "int32", maximum: 128, minimum: 1 })),
  gpu: Type.Optional(GPUSpec),
  memoryMiB: Type.Optional(Type.Integer({ description: "MemoryMiB specifies the amount of memory in MiB", format: "int64", maximum: 1048576, minimum: 128 })),
}, { description: "Resources allows overriding resource allocation from the VMClass" });
export type VirtualMachineResources = Static<typeof VirtualMachineResources>;

export const UserDataSpec = Type.Object({
  cloudInit: Type.Optional(CloudInitMetaData),
  ignition: Type.Optional(IgnitionSpec),
}, { description: "UserData contains cloud-init configuration" });
export type UserDataSpec = Static<typeof UserDataSpec>;

export const LifecycleHandler = Type.Object({
  exec: Type.Optional(Type.Object({
    command: Type.Array(Type.String(), { description: "Command is the command line to execute", minItems: 1 }),
  }, { description: "Exec specifies a command to execute" })),
  httpGet: Type.Optional(LifecycleHTTPGet),
  snapshot: Type.Optional(SnapshotRequest),
}, { description: "PostStart defines actions to take after starting the VM" });
export type LifecycleHandler = Static<typeof LifecycleHandler>;

export const ImportedDiskSpec = Type.Object({
  diskID: Type.String({ description: "DiskID is the provider-specific disk identifier.\nFor libvirt, this is typically the volume name.", maxLength: 253, minLength: 1 }),
  format: Type.Optional(StringEnum(["qcow2", "vmdk", "raw", "vdi", "vhdx"], { description: "Format specifies the disk format (qcow2, vmdk, raw, etc.).", default: "qcow2" })),
  migrationRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "MigrationRef references the VMMigration that imported this disk.\nThis provides traceability and audit trail for migrated disks." })),
  path: Type.Optional(Type.String({ description: "Path is the optional disk path on the provider (e.g., /var/lib/libvirt/images/disk.qcow2).\nIf not specified, the provider will determine the path based on DiskID." })),
  sizeGiB: Type.Optional(Type.Integer({ description: "SizeGiB specifies the expected disk size in GiB.\nUsed for validation and capacity planning.", format: "int32", minimum: 1 })),
  source: Type.Optional(StringEnum(["migration", "clone", "import", "snapshot", "manual"], { description: "Source indicates where the disk came from." })),
}, { description: "ImportedDisk references a pre-imported disk (e.g., from migration).\nEither ImageRef or ImportedDisk must be specified, but not both." });
export type ImportedDiskSpec = Static<typeof ImportedDiskSpec>;

export const DiskSpec = Type.Object({
  expandPolicy: Type.Optional(StringEnum(["Online", "Offline"], { description: "ExpandPolicy defines how the disk can be expanded", default: "Offline" })),
  name: Type.String({ description: "Name is the disk identifier", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  scsi: Type.Optional(SCSIControllerSpec),
  sizeGiB: Type.Integer({ description: "SizeGiB is the size of the disk in GiB", format: "int32", maximum: 65536, minimum: 1 }),
  storageClass: Type.Optional(Type.String({ description: "StorageClass specifies the storage class (optional)" })),
  type: Type.Optional(StringEnum(["thin", "thick", "eagerzeroedthick", "ssd", "hdd"], { description: "Type specifies the disk type (provider-specific)", default: "thin" })),
}, { description: "DiskSpec defines a disk configuration" });
export type DiskSpec = Static<typeof DiskSpec>;

export const VMNetworkRef = validated(Type.Object({
  dns: Type.Optional(Type.String({ description: "DNS specifies DNS server IP addresses (comma-separated)" })),
  gateway: Type.Optional(Type.String({ description: "Gateway specifies the default gateway IP address", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" })),
  ipAddress: Type.Optional(Type.String({ description: "IPAddress specifies a static IP address (optional)", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" })),
  macAddress: Type.Optional(Type.String({ description: "MACAddress specifies a static MAC address (optional)", pattern: "^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$" })),
  name: Type.String({ description: "Name is the name of this network attachment", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  networkRef: Type.Optional(described(NamespacedObjectReference, "NetworkRef references the VMNetworkAttachment (optional)\nWhen not specified, the template's pre-configured network adapter is used.")),
  prefix: Type.Optional(Type.Integer({ description: "Prefix specifies the network prefix length (e.g., 24 for /24)", format: "int32", maximum: 32, minimum: 1 })),
}, { description: "VMNetworkRef represents a reference to a network attachment" }),
  { rule: '!has(self.prefix) || has(self.ipAddress)', message: 'prefix needs ipAddress: a prefix length only applies to a static IP address', fieldPath: '.prefix' },
  { rule: '!has(self.gateway) || has(self.ipAddress)', message: 'gateway needs ipAddress: a gateway only applies to a static IP address', fieldPath: '.gateway' },
);
export type VMNetworkRef = Static<typeof VMNetworkRef>;

export const Condition = Type.Object({
  lastTransitionTime: Type.String({ description: "lastTransitionTime is the last time the condition transitioned from one status to another.\nThis should be when the underlying condition changed.  If that is not known, then using the time when the API field changed is acceptable.", format: "date-time" }),
  message: Type.String({ description: "message is a human readable message indicating details about the transition.\nThis may be an empty string.", maxLength: 32768 }),
  observedGeneration: Type.Optional(Type.Integer({ description: "observedGeneration represents the .metadata.generation that the condition was set based upon.\nFor instance, if .metadata.generation is currently 12, but the .status.conditions[x].observedGeneration is 9, the condition is out of date\nwith respect to the current state of the instance.", format: "int64", minimum: 0 })),
  reason: Type.String({ description: "reason contains a programmatic identifier indicating the reason for the condition's last transition.\nProducers of specific condition types may define expected values and meanings for this field,\nand whether the values are considered a guaranteed API.\nThe value should be a CamelCase string.\nThis field may not be empty.", maxLength: 1024, minLength: 1, pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$" }),
  status: StringEnum(["True", "False", "Unknown"], { description: "status of the condition, one of True, False, Unknown." }),
  type: Type.String({ description: "type of condition in CamelCase or in foo.example.com/CamelCase.", maxLength: 316, pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$" }),
}, { description: "Condition contains details for one aspect of the current state of this API Resource." });
export type Condition = Static<typeof Condition>;

export const VMLifecycle = Type.Object({
  gracefulShutdownTimeout: Type.Optional(Type.String({ description: "GracefulShutdownTimeout defines how long to wait for graceful shutdown", default: "60s" })),
  postStart: Type.Optional(LifecycleHandler),
  preStop: Type.Optional(described(LifecycleHandler, "PreStop defines actions to take before stopping the VM")),
}, { description: "Lifecycle defines VM lifecycle configuration" });
export type VMLifecycle = Static<typeof VMLifecycle>;
