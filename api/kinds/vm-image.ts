import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { exactlyOneOf, IntOrString, StringEnum, StringMap, validated } from '../schema/builders.ts';
import { Condition } from '../schema/shared.ts';

export const VMImageSpec = Type.Object({
  distribution: Type.Optional(Type.Object({
    family: Type.Optional(StringEnum(["linux", "windows", "bsd", "other"], { description: "Family is the OS family" })),
    kernel: Type.Optional(Type.Object({
      type: Type.Optional(StringEnum(["linux", "windows", "freebsd", "other"], { description: "Type is the kernel type" })),
      version: Type.Optional(Type.String({ description: "Version is the kernel version" })),
    }, { description: "Kernel specifies kernel information" })),
    name: Type.Optional(StringEnum(["ubuntu", "centos", "rhel", "fedora", "debian", "suse", "windows", "freebsd", "coreos", "other"], { description: "Name is the OS distribution name" })),
    variant: Type.Optional(Type.String({ description: "Variant is the distribution variant (e.g., server, desktop)", maxLength: 100 })),
    version: Type.Optional(Type.String({ description: "Version is the distribution version", maxLength: 100 })),
  }, { description: "Distribution contains OS distribution information" })),
  metadata: Type.Optional(Type.Object({
    annotations: Type.Optional(StringMap(Type.String(), { description: "Annotations are additional metadata annotations", maxProperties: 50 })),
    architecture: Type.Optional(StringEnum(["amd64", "arm64", "x86_64", "aarch64"], { description: "Architecture specifies the CPU architecture", default: "amd64" })),
    description: Type.Optional(Type.String({ description: "Description provides a description of the image", maxLength: 1024 })),
    displayName: Type.Optional(Type.String({ description: "DisplayName is a human-readable name for the image", maxLength: 255 })),
    tags: Type.Optional(StringMap(Type.String(), { description: "Tags are key-value pairs for categorizing the image", maxProperties: 50 })),
    version: Type.Optional(Type.String({ description: "Version specifies the image version", maxLength: 100 })),
  }, { description: "Metadata contains image metadata and annotations" })),
  prepare: Type.Optional(Type.Object({
    force: Type.Optional(Type.Boolean({ description: "Force forces re-import even if image exists" })),
    onMissing: Type.Optional(StringEnum(["Import", "Fail", "Wait"], { description: "OnMissing defines the action to take when image is missing", default: "Import" })),
    optimization: Type.Optional(Type.Object({
      convertFormat: Type.Optional(StringEnum(["qcow2", "raw", "vmdk", "vhd", "vhdx", "iso", "ova", "ovf"], { description: "ConvertFormat converts the image to a more optimal format" })),
      enableCompression: Type.Optional(Type.Boolean({ description: "EnableCompression enables image compression", default: false })),
      enableDeltaSync: Type.Optional(Type.Boolean({ description: "EnableDeltaSync enables delta synchronization for updates", default: false })),
      removeUnusedSpace: Type.Optional(Type.Boolean({ description: "RemoveUnusedSpace removes unused space from the image", default: false })),
    }, { description: "Optimization defines image optimization options" })),
    retries: Type.Optional(Type.Integer({ description: "Retries defines the number of retry attempts for failed operations", default: 3, format: "int32", maximum: 10, minimum: 0 })),
    storage: Type.Optional(Type.Object({
      compression: Type.Optional(Type.Boolean({ description: "Compression enables compression during import", default: false })),
      libvirt: Type.Optional(Type.Object({
        allocationPolicy: Type.Optional(StringEnum(["eager", "lazy"], { description: "AllocationPolicy defines how storage is allocated" })),
        preallocation: Type.Optional(StringEnum(["off", "metadata", "falloc", "full"], { description: "Preallocation specifies preallocation mode" })),
        storagePool: Type.Optional(Type.String({ description: "StoragePool specifies the target storage pool for import", maxLength: 255 })),
      }, { description: "Libvirt storage options" })),
      preferredFormat: Type.Optional(StringEnum(["qcow2", "raw", "vmdk", "vhd", "vhdx", "iso", "ova", "ovf"], { description: "PreferredFormat specifies the preferred target format" })),
      vsphere: Type.Optional(Type.Object({
        datastore: Type.Optional(Type.String({ description: "Datastore specifies the target datastore for import", maxLength: 255 })),
        diskType: Type.Optional(StringEnum(["thin", "thick", "eagerzeroedthick"], { description: "DiskType specifies the disk provisioning type" })),
        folder: Type.Optional(Type.String({ description: "Folder specifies the target folder for import", maxLength: 255 })),
        thinProvisioned: Type.Optional(Type.Boolean({ description: "ThinProvisioned indicates whether to use thin provisioning" })),
      }, { description: "VSphere storage options" })),
    }, { description: "Storage defines storage-specific preparation options" })),
    timeout: Type.Optional(Type.String({ description: "Timeout defines the maximum time to wait for preparation", default: "30m" })),
    validateChecksum: Type.Optional(Type.Boolean({ description: "ValidateChecksum validates the image checksum", default: true })),
  }, { description: "Prepare contains optional image preparation steps" })),
  source: validated(Type.Object({
    dataVolume: Type.Optional(Type.Object({
      name: Type.String({ description: "Name is the name of the DataVolume", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
      namespace: Type.Optional(Type.String({ description: "Namespace is the namespace of the DataVolume (defaults to image namespace)", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" })),
    }, { description: "DataVolume contains DataVolume-based image configuration" })),
    http: Type.Optional(Type.Object({
      authentication: Type.Optional(Type.Object({
        basicAuth: Type.Optional(Type.Object({
          passwordKey: Type.Optional(Type.String({ description: "PasswordKey is the key in the secret containing the password (default: password)", default: "password" })),
          secretRef: Type.Object({
            name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
          }, { description: "SecretRef references a secret containing username and password" }),
          usernameKey: Type.Optional(Type.String({ description: "UsernameKey is the key in the secret containing the username (default: username)", default: "username" })),
        }, { description: "BasicAuth contains basic authentication configuration" })),
        bearer: Type.Optional(Type.Object({
          secretRef: Type.Object({
            name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
          }, { description: "SecretRef references a secret containing the bearer token" }),
          tokenKey: Type.Optional(Type.String({ description: "TokenKey is the key in the secret containing the token (default: token)", default: "token" })),
        }, { description: "Bearer contains bearer token authentication" })),
        clientCert: Type.Optional(Type.Object({
          certKey: Type.Optional(Type.String({ description: "CertKey is the key in the secret containing the certificate (default: tls.crt)", default: "tls.crt" })),
          keyKey: Type.Optional(Type.String({ description: "KeyKey is the key in the secret containing the private key (default: tls.key)", default: "tls.key" })),
          secretRef: Type.Object({
            name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
          }, { description: "SecretRef references a secret containing the client certificate and key" }),
        }, { description: "ClientCert contains client certificate authentication" })),
      }, { description: "Authentication contains authentication configuration" })),
      checksum: Type.Optional(Type.String({ description: "Checksum provides expected checksum for verification" })),
      checksumType: Type.Optional(StringEnum(["md5", "sha1", "sha256", "sha512"], { description: "ChecksumType specifies the checksum algorithm", default: "sha256" })),
      headers: Type.Optional(StringMap(Type.String(), { description: "Headers contains HTTP headers to include in the request", maxProperties: 20 })),
      timeout: Type.Optional(Type.String({ description: "Timeout specifies the download timeout", default: "30m" })),
      url: Type.String({ description: "URL is the HTTP/HTTPS URL to download the image", pattern: "^https?://.*" }),
    }, { description: "HTTP contains HTTP/HTTPS download configuration" })),
    libvirt: Type.Optional(Type.Object({
      checksum: Type.Optional(Type.String({ description: "Checksum provides expected checksum for verification" })),
      checksumType: Type.Optional(StringEnum(["md5", "sha1", "sha256", "sha512"], { description: "ChecksumType specifies the checksum algorithm", default: "sha256" })),
      format: Type.Optional(StringEnum(["qcow2", "raw", "vmdk", "vhd", "vhdx", "iso", "ova", "ovf"], { description: "Format specifies the image format", default: "qcow2" })),
      path: Type.Optional(Type.String({ description: "Path specifies the path to the image file on the host" })),
      storagePool: Type.Optional(Type.String({ description: "StoragePool specifies the libvirt storage pool", maxLength: 255 })),
      url: Type.Optional(Type.String({ description: "URL provides a URL to download the image", pattern: "^(https?|ftp)://.*" })),
    }, { description: "Libvirt contains Libvirt-specific image configuration" })),
    proxmox: Type.Optional(Type.Object({
      format: Type.Optional(StringEnum(["raw", "qcow2", "vmdk"], { description: "Format specifies the disk format", default: "qcow2" })),
      fullClone: Type.Optional(Type.Boolean({ description: "FullClone determines if this should be a full clone (default) or linked clone", default: true })),
      node: Type.Optional(Type.String({ description: "Node specifies the Proxmox node where the template exists", maxLength: 255 })),
      storage: Type.Optional(Type.String({ description: "Storage specifies the Proxmox storage for cloning\nExamples: \"local-lvm\", \"vms\", \"nfs-storage\"", maxLength: 255 })),
      templateID: Type.Optional(Type.Integer({ description: "TemplateID specifies an existing Proxmox template VMID", maximum: 999999999, minimum: 100 })),
      templateName: Type.Optional(Type.String({ description: "TemplateName specifies an existing Proxmox template name", maxLength: 255 })),
    }, { description: "Proxmox contains Proxmox VE-specific image configuration" })),
    registry: Type.Optional(Type.Object({
      format: Type.Optional(StringEnum(["qcow2", "raw", "vmdk", "vhd", "vhdx", "iso", "ova", "ovf"], { description: "Format specifies the expected image format", default: "qcow2" })),
      image: Type.String({ description: "Image is the container image reference", pattern: "^[a-zA-Z0-9._/-]+:[a-zA-Z0-9._-]+$" }),
      pullSecretRef: Type.Optional(Type.Object({
        name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
      }, { description: "PullSecretRef references a secret for pulling the image" })),
    }, { description: "Registry contains container registry image configuration" })),
    vsphere: Type.Optional(Type.Object({
      checksum: Type.Optional(Type.String({ description: "Checksum provides expected checksum for verification" })),
      checksumType: Type.Optional(StringEnum(["md5", "sha1", "sha256", "sha512"], { description: "ChecksumType specifies the checksum algorithm", default: "sha256" })),
      contentLibrary: Type.Optional(Type.Object({
        item: Type.String({ description: "Item is the name of the library item", maxLength: 255 }),
        library: Type.String({ description: "Library is the name of the content library", maxLength: 255 }),
        version: Type.Optional(Type.String({ description: "Version specifies the item version (optional)" })),
      }, { description: "ContentLibrary references a vSphere content library item" })),
      ovaURL: Type.Optional(Type.String({ description: "OVAURL provides a URL to an OVA file to import", pattern: "^https?://.*\\.(ova|ovf)$" })),
      providerRef: Type.Optional(Type.Object({
        name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
      }, { description: "ProviderRef references the vSphere provider for importing" })),
      templateName: Type.Optional(Type.String({ description: "TemplateName references an existing vSphere template by name.\nThis can be a simple name (searched globally) or a full inventory path.", maxLength: 255 })),
    }, { description: "VSphere contains vSphere-specific image configuration" })),
  }, { description: "Source defines the image source configuration" }), exactlyOneOf(["vsphere", "libvirt", "proxmox", "http", "registry", "dataVolume"])),
}, { description: "VMImageSpec defines the desired state of VMImage" });
export type VMImageSpec = Static<typeof VMImageSpec>;

export const VMImageStatus = Type.Object({
  availableOn: Type.Optional(Type.Array(Type.String(), { description: "AvailableOn lists the providers where the image is available" })),
  checksum: Type.Optional(Type.String({ description: "Checksum is the actual checksum of the prepared image" })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the latest available observations" })),
  format: Type.Optional(StringEnum(["qcow2", "raw", "vmdk", "vhd", "vhdx", "iso", "ova", "ovf"], { description: "Format is the actual format of the prepared image" })),
  importProgress: Type.Optional(Type.Object({
    eta: Type.Optional(Type.String({ description: "ETA is the estimated time to completion" })),
    percentage: Type.Optional(Type.Integer({ description: "Percentage is the completion percentage (0-100)", format: "int32", maximum: 100, minimum: 0 })),
    startTime: Type.Optional(Type.String({ description: "StartTime is when the import started", format: "date-time" })),
    totalBytes: Type.Optional(Type.Integer({ description: "TotalBytes is the total size of the image being imported", format: "int64" })),
    transferRate: Type.Optional(Type.Integer({ description: "TransferRate is the current transfer rate in bytes per second", format: "int64" })),
    transferredBytes: Type.Optional(Type.Integer({ description: "TransferredBytes is the number of bytes transferred so far", format: "int64" })),
  }, { description: "ImportProgress shows the progress of image import operations" })),
  lastPrepareTime: Type.Optional(Type.String({ description: "LastPrepareTime records when the image was last prepared", format: "date-time" })),
  message: Type.Optional(Type.String({ description: "Message provides additional details about the current state" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  phase: Type.Optional(StringEnum(["Pending", "Downloading", "Importing", "Converting", "Optimizing", "Ready", "Failed"], { description: "Phase represents the current phase of image preparation" })),
  prepareTaskRef: Type.Optional(Type.String({ description: "PrepareTaskRef tracks any ongoing image preparation operations" })),
  providerStatus: Type.Optional(StringMap(Type.Object({
    available: Type.Boolean({ description: "Available indicates if the image is available on this provider" }),
    id: Type.Optional(Type.String({ description: "ID is the provider-specific image identifier" })),
    lastUpdated: Type.Optional(Type.String({ description: "LastUpdated is when the status was last updated", format: "date-time" })),
    message: Type.Optional(Type.String({ description: "Message provides provider-specific status information" })),
    path: Type.Optional(Type.String({ description: "Path is the provider-specific image path" })),
    size: Type.Optional(IntOrString({ description: "Size is the image size on this provider", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
  }, { description: "ProviderImageStatus contains provider-specific image status" }), { description: "ProviderStatus contains provider-specific status information" })),
  ready: Type.Optional(Type.Boolean({ description: "Ready indicates if the image is ready for use" })),
  size: Type.Optional(IntOrString({ description: "Size is the size of the prepared image", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
}, { description: "VMImageStatus defines the observed state of VMImage" });
export type VMImageStatus = Static<typeof VMImageStatus>;

export const vmImageCrd: CrdDefinition = {
  kind: 'VMImage',
  plural: 'vmimages',
  singular: 'vmimage',
  shortNames: ['vmimg'],
  description: 'A base image (template, URL, registry or DataVolume) that VMs boot from.',
  spec: VMImageSpec,
  status: VMImageStatus,
  printerColumns: [
    { name: 'Ready', type: 'boolean', jsonPath: '.status.ready' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Size', type: 'string', jsonPath: '.status.size' },
    { name: 'Providers', type: 'string', jsonPath: '.status.availableOn[*]' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
