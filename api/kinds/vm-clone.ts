import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { described, exactlyOneOf, immutable, StringEnum, StringMap, validated } from '../schema/builders.ts';
import { Condition, DiskSpec, NamespacedObjectReference, UserDataSpec, VMNetworkRef } from '../schema/shared.ts';

export const SecretKeyReference = Type.Object({
  secretKey: Type.Optional(Type.String({ description: "SecretKey is the key in the secret containing the password", default: "password" })),
  secretRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "SecretRef references a secret containing the password" })),
  value: Type.Optional(Type.String({ description: "Value is the plaintext password (not recommended for production)" })),
}, { description: "AdminPassword specifies the administrator password" });
export type SecretKeyReference = Static<typeof SecretKeyReference>;

export const VMCloneSpec = Type.Object({
  customization: Type.Optional(Type.Object({
    certificates: Type.Optional(Type.Array(Type.Object({
      data: Type.Optional(Type.String({ description: "Data contains the certificate data (PEM format)" })),
      name: Type.String({ description: "Name is the certificate name", maxLength: 255 }),
      secretKey: Type.Optional(Type.String({ description: "SecretKey is the key in the secret containing the certificate", default: "tls.crt" })),
      secretRef: Type.Optional(Type.Object({
        name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
      }, { description: "SecretRef references a secret containing the certificate" })),
      store: Type.Optional(StringEnum(["root", "ca", "my", "trust"], { description: "Store specifies the certificate store", default: "root" })),
    }, { description: "CertificateSpec defines a certificate to install" }), { description: "Certificates defines certificates to install", maxItems: 10 })),
    domain: Type.Optional(Type.String({ description: "Domain sets the domain name", maxLength: 255 })),
    guestCommands: Type.Optional(Type.Array(Type.Object({
      arguments: Type.Optional(Type.Array(Type.String(), { description: "Arguments contains command arguments", maxItems: 20 })),
      command: Type.String({ description: "Command is the command to execute", maxLength: 1000 }),
      runAsUser: Type.Optional(Type.String({ description: "RunAsUser specifies the user to run the command as", maxLength: 255 })),
      stage: Type.Optional(StringEnum(["pre-customization", "post-customization", "first-boot"], { description: "Stage specifies when to run the command", default: "post-customization" })),
      timeout: Type.Optional(Type.String({ description: "Timeout specifies the command timeout", default: "5m" })),
      workingDirectory: Type.Optional(Type.String({ description: "WorkingDirectory specifies the working directory", maxLength: 500 })),
    }, { description: "GuestCommand defines a command to run in the guest OS" }), { description: "GuestCommands defines commands to run in the guest OS", maxItems: 20 })),
    hostname: Type.Optional(Type.String({ description: "Hostname sets the target VM hostname", maxLength: 255, pattern: "^[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?$" })),
    networks: Type.Optional(Type.Array(Type.Object({
      dhcp: Type.Optional(Type.Boolean({ description: "DHCP enables DHCP for this network" })),
      dns: Type.Optional(Type.Array(Type.String(), { description: "DNS sets DNS servers", maxItems: 5 })),
      gateway: Type.Optional(Type.String({ description: "Gateway sets the network gateway", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" })),
      ipAddress: Type.Optional(Type.String({ description: "IPAddress sets a static IP address", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" })),
      macAddress: Type.Optional(Type.String({ description: "MACAddress sets a custom MAC address", pattern: "^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$" })),
      name: Type.String({ description: "Name identifies the network to customize", maxLength: 255 }),
      subnetMask: Type.Optional(Type.String({ description: "SubnetMask sets the subnet mask", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" })),
    }, { description: "NetworkCustomization defines network-specific customization" }), { description: "Networks defines network customization", maxItems: 10 })),
    sysprep: Type.Optional(Type.Object({
      adminPassword: Type.Optional(SecretKeyReference),
      customCommands: Type.Optional(Type.Array(Type.String(), { description: "CustomCommands specifies custom commands to run during sysprep", maxItems: 20 })),
      enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates if sysprep should be run", default: false })),
      joinDomain: Type.Optional(Type.Object({
        domain: Type.String({ description: "Domain is the domain name to join", maxLength: 255 }),
        organizationalUnit: Type.Optional(Type.String({ description: "OrganizationalUnit specifies the OU for the computer account", maxLength: 500 })),
        password: described(SecretKeyReference, "Password is the domain join password"),
        username: Type.String({ description: "Username is the domain join username", maxLength: 255 }),
      }, { description: "JoinDomain specifies domain join configuration" })),
      organization: Type.Optional(Type.String({ description: "Organization specifies the organization name", maxLength: 255 })),
      owner: Type.Optional(Type.String({ description: "Owner specifies the owner name", maxLength: 255 })),
      productKey: Type.Optional(Type.String({ description: "ProductKey specifies the Windows product key" })),
    }, { description: "Sysprep provides Windows sysprep customization" })),
    tags: Type.Optional(Type.Array(Type.String(), { description: "Tags defines additional tags for the cloned VM", maxItems: 50 })),
    timeZone: Type.Optional(Type.String({ description: "TimeZone sets the timezone", maxLength: 100 })),
    userData: Type.Optional(described(UserDataSpec, "UserData provides cloud-init or similar customization data")),
  }, { description: "Customization defines VM customization options" })),
  metadata: Type.Optional(Type.Object({
    createdBy: Type.Optional(Type.String({ description: "CreatedBy identifies who or what created the clone", maxLength: 255 })),
    environment: Type.Optional(StringEnum(["dev", "staging", "prod", "test", "qa", "uat"], { description: "Environment specifies the environment" })),
    project: Type.Optional(Type.String({ description: "Project identifies the project this clone belongs to", maxLength: 255 })),
    purpose: Type.Optional(StringEnum(["backup", "testing", "migration", "development", "production", "staging"], { description: "Purpose describes the purpose of the clone" })),
    tags: Type.Optional(StringMap(Type.String(), { description: "Tags are key-value pairs for categorizing the clone", maxProperties: 50 })),
  }, { description: "Metadata contains clone operation metadata" })),
  options: Type.Optional(Type.Object({
    includeSnapshots: Type.Optional(Type.Boolean({ description: "IncludeSnapshots indicates whether to include snapshots in the clone", default: false })),
    parallel: Type.Optional(Type.Boolean({ description: "Parallel enables parallel disk cloning (if supported)", default: false })),
    performance: Type.Optional(Type.Object({
      concurrentDisks: Type.Optional(Type.Integer({ description: "ConcurrentDisks limits the number of disks cloned concurrently", default: 2, format: "int32", maximum: 10, minimum: 1 })),
      ioThrottling: Type.Optional(Type.Boolean({ description: "IOThrottling enables I/O throttling during clone operations", default: false })),
      maxIOPS: Type.Optional(Type.Integer({ description: "MaxIOPS limits the maximum IOPS during clone operations", format: "int32", maximum: 100000, minimum: 100 })),
      priority: Type.Optional(StringEnum(["Low", "Normal", "High"], { description: "Priority specifies the clone operation priority", default: "Normal" })),
    }, { description: "Performance defines performance-related clone options" })),
    powerOn: Type.Optional(Type.Boolean({ description: "PowerOn indicates whether to power on the cloned VM", default: false })),
    retryPolicy: Type.Optional(Type.Object({
      backoffMultiplier: Type.Optional(Type.Integer({ description: "BackoffMultiplier is the multiplier for exponential backoff", default: 2, format: "int32" })),
      maxRetries: Type.Optional(Type.Integer({ description: "MaxRetries is the maximum number of retry attempts", default: 3, format: "int32", maximum: 10, minimum: 0 })),
      retryDelay: Type.Optional(Type.String({ description: "RetryDelay is the delay between retry attempts", default: "5m" })),
    }, { description: "RetryPolicy defines retry behavior for failed clones" })),
    storage: Type.Optional(Type.Object({
      datastore: Type.Optional(Type.String({ description: "Datastore specifies the target datastore for cloned disks", maxLength: 255 })),
      diskFormat: Type.Optional(StringEnum(["thin", "thick", "eagerzeroedthick", "ssd", "hdd", "nvme"], { description: "DiskFormat specifies the preferred disk format for cloned disks" })),
      enableCompression: Type.Optional(Type.Boolean({ description: "EnableCompression enables compression during clone operations", default: false })),
      folder: Type.Optional(Type.String({ description: "Folder specifies the target folder for the cloned VM", maxLength: 255 })),
      preferThinProvisioning: Type.Optional(Type.Boolean({ description: "PreferThinProvisioning prefers thin provisioning for cloned disks", default: true })),
      storageClass: Type.Optional(Type.String({ description: "StorageClass specifies the storage class for cloned disks", maxLength: 253 })),
    }, { description: "Storage defines storage-specific clone options" })),
    timeout: Type.Optional(Type.String({ description: "Timeout defines the maximum time to wait for clone completion", default: "30m" })),
    type: Type.Optional(Type.String({ description: "Type specifies the clone type", allOf: [{"enum": ["FullClone", "LinkedClone", "InstantClone"]}, {"enum": ["FullClone", "LinkedClone", "InstantClone"]}], default: "FullClone" })),
  }, { description: "Options defines cloning options" })),
  source: validated(Type.Object({
    imageRef: Type.Optional(described(NamespacedObjectReference, "ImageRef references a VM image to clone from")),
    snapshotRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "SnapshotRef references a specific snapshot to clone from" })),
    templateRef: Type.Optional(described(NamespacedObjectReference, "TemplateRef references a VM template to clone from")),
    vmRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "VMRef references the source virtual machine to clone" })),
  }, { description: "Source defines the source for cloning" }), exactlyOneOf(["vmRef", "templateRef", "snapshotRef", "imageRef"])),
  target: Type.Object({
    annotations: Type.Optional(StringMap(Type.String(), { description: "Annotations defines annotations to apply to the target VM", maxProperties: 50 })),
    classRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "ClassRef references the VM class for resource allocation" })),
    disks: Type.Optional(Type.Array(DiskSpec, { description: "Disks defines disk configuration overrides", maxItems: 20 })),
    labels: Type.Optional(StringMap(Type.String(), { description: "Labels defines labels to apply to the target VM", maxProperties: 50 })),
    name: Type.String({ description: "Name is the name of the target VM", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    namespace: Type.Optional(Type.String({ description: "Namespace is the namespace for the target VM (defaults to source namespace)", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" })),
    networks: Type.Optional(Type.Array(VMNetworkRef, { description: "Networks defines network configuration overrides", maxItems: 10 })),
    placementRef: Type.Optional(Type.Object({
      name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
    }, { description: "PlacementRef references placement policy for the target VM" })),
    providerRef: Type.Optional(described(NamespacedObjectReference, "ProviderRef references the target provider (defaults to source provider)")),
  }, { description: "Target defines the target VM configuration" }),
}, { description: "VMCloneSpec defines the desired state of VMClone" });
export type VMCloneSpec = Static<typeof VMCloneSpec>;

export const VMCloneStatus = Type.Object({
  actualCloneType: Type.Optional(StringEnum(["FullClone", "LinkedClone", "InstantClone"], { description: "ActualCloneType indicates the actual clone type that was used" })),
  completionTime: Type.Optional(Type.String({ description: "CompletionTime is when the clone operation completed", format: "date-time" })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the current service state" })),
  customizationStatus: Type.Optional(Type.Object({
    completed: Type.Optional(Type.Boolean({ description: "Completed indicates if customization has completed" })),
    completedSteps: Type.Optional(Type.Array(Type.String(), { description: "CompletedSteps lists completed customization steps" })),
    currentStep: Type.Optional(Type.String({ description: "CurrentStep is the current customization step" })),
    failedSteps: Type.Optional(Type.Array(Type.String(), { description: "FailedSteps lists failed customization steps" })),
    message: Type.Optional(Type.String({ description: "Message provides customization status details" })),
    started: Type.Optional(Type.Boolean({ description: "Started indicates if customization has started" })),
  }, { description: "CustomizationStatus contains customization operation status" })),
  lastRetryTime: Type.Optional(Type.String({ description: "LastRetryTime is when the clone was last retried", format: "date-time" })),
  message: Type.Optional(Type.String({ description: "Message provides additional details about the current state" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  phase: Type.Optional(StringEnum(["Pending", "Preparing", "Cloning", "Customizing", "Powering-On", "Ready", "Failed"], { description: "Phase represents the current phase of the clone operation" })),
  progress: Type.Optional(Type.Object({
    completedDisks: Type.Optional(Type.Integer({ description: "CompletedDisks is the number of disks completed", format: "int32" })),
    currentDisk: Type.Optional(Type.Object({
      completedBytes: Type.Optional(Type.Integer({ description: "CompletedBytes is the number of bytes completed", format: "int64" })),
      name: Type.String({ description: "Name is the disk name" }),
      percentage: Type.Optional(Type.Integer({ description: "Percentage is the completion percentage (0-100)", format: "int32", maximum: 100, minimum: 0 })),
      totalBytes: Type.Optional(Type.Integer({ description: "TotalBytes is the total size of the disk", format: "int64" })),
      transferRate: Type.Optional(Type.Integer({ description: "TransferRate is the current transfer rate in bytes per second", format: "int64" })),
    }, { description: "CurrentDisk shows progress of the current disk being cloned" })),
    eta: Type.Optional(Type.String({ description: "ETA is the estimated time to completion" })),
    overallPercentage: Type.Optional(Type.Integer({ description: "OverallPercentage is the overall completion percentage (0-100)", format: "int32", maximum: 100, minimum: 0 })),
    totalDisks: Type.Optional(Type.Integer({ description: "TotalDisks is the total number of disks to clone", format: "int32" })),
  }, { description: "Progress shows the clone operation progress" })),
  retryCount: Type.Optional(Type.Integer({ description: "RetryCount is the number of times the clone has been retried", format: "int32" })),
  startTime: Type.Optional(Type.String({ description: "StartTime is when the clone operation started", format: "date-time" })),
  targetRef: Type.Optional(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "TargetRef references the created target VM" })),
  targetVMID: Type.Optional(Type.String({ description: "TargetVMID is the provider-specific identifier of the cloned VM as\nreturned by the provider Clone operation. The controller persists it so\nthe produced VirtualMachine CR's Status.ID can be seeded after an\nasynchronous clone task completes." })),
  taskRef: Type.Optional(Type.String({ description: "TaskRef tracks any ongoing async operations" })),
}, { description: "VMCloneStatus defines the observed state of VMClone" });
export type VMCloneStatus = Static<typeof VMCloneStatus>;

export const vmCloneCrd: CrdDefinition = {
  kind: 'VMClone',
  plural: 'vmclones',
  singular: 'vmclone',
  shortNames: ['vmclone'],
  description: 'A full or linked clone of a VM, template, snapshot or image into a new VM.',
  spec: validated(VMCloneSpec, immutable('target', 'the clone is created from it; create another VMClone for another target')),
  status: VMCloneStatus,
  printerColumns: [
    { name: 'Source', type: 'string', jsonPath: '.spec.source.vmRef.name' },
    { name: 'Target', type: 'string', jsonPath: '.spec.target.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Clone Type', type: 'string', jsonPath: '.status.actualCloneType' },
    { name: 'Progress', type: 'string', jsonPath: '.status.progress.overallPercentage' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
