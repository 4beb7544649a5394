import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { IntOrString, StringEnum, StringMap } from '../schema/builders.ts';
import { Condition } from '../schema/shared.ts';

export const VMClassSpec = Type.Object({
  cpu: Type.Integer({ description: "CPU specifies the number of virtual CPUs", format: "int32", maximum: 128, minimum: 1 }),
  diskDefaults: Type.Optional(Type.Object({
    iops: Type.Optional(Type.Integer({ description: "IOPS specifies the default IOPS limit", format: "int32", maximum: 100000, minimum: 100 })),
    size: Type.Optional(IntOrString({ description: "Size specifies the default root disk size", default: "40Gi", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
    storageClass: Type.Optional(Type.String({ description: "StorageClass specifies the default storage class", maxLength: 253 })),
    type: Type.Optional(StringEnum(["thin", "thick", "eagerzeroedthick", "ssd", "hdd", "nvme"], { description: "Type specifies the default disk type", default: "thin" })),
  }, { description: "DiskDefaults provides default disk settings" })),
  extraConfig: Type.Optional(StringMap(Type.String(), { description: "ExtraConfig contains provider-specific extra configuration", maxProperties: 50 })),
  firmware: Type.Optional(Type.String({ description: "Firmware specifies the firmware type", allOf: [{"enum": ["BIOS", "UEFI", "EFI"]}, {"enum": ["BIOS", "UEFI", "EFI"]}], default: "BIOS" })),
  guestToolsPolicy: Type.Optional(StringEnum(["install", "skip", "upgrade", "uninstall"], { description: "GuestToolsPolicy specifies guest tools installation policy", default: "install" })),
  memory: IntOrString({ description: "Memory specifies memory allocation using Kubernetes resource quantities", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" }),
  performanceProfile: Type.Optional(Type.Object({
    cpuHotAddEnabled: Type.Optional(Type.Boolean({ description: "CPUHotAddEnabled allows adding CPUs while VM is running", default: false })),
    hyperThreadingPolicy: Type.Optional(StringEnum(["auto", "prefer", "avoid", "require"], { description: "HyperThreadingPolicy controls hyperthreading usage", default: "auto" })),
    latencySensitivity: Type.Optional(StringEnum(["low", "normal", "high"], { description: "LatencySensitivity configures latency sensitivity", default: "normal" })),
    memoryHotAddEnabled: Type.Optional(Type.Boolean({ description: "MemoryHotAddEnabled allows adding memory while VM is running", default: false })),
    nestedVirtualization: Type.Optional(Type.Boolean({ description: "NestedVirtualization enables nested virtualization", default: false })),
    virtualizationBasedSecurity: Type.Optional(Type.Boolean({ description: "VirtualizationBasedSecurity enables VBS features", default: false })),
  }, { description: "PerformanceProfile defines performance-related settings" })),
  resourceLimits: Type.Optional(Type.Object({
    cpuLimit: Type.Optional(Type.Integer({ description: "CPULimit is the maximum CPU usage limit (in MHz or percentage)", format: "int32", maximum: 100000, minimum: 100 })),
    cpuReservation: Type.Optional(Type.Integer({ description: "CPUReservation is the guaranteed CPU allocation (in MHz)", format: "int32", maximum: 100000, minimum: 0 })),
    cpuShares: Type.Optional(Type.Integer({ description: "CPUShares defines the relative CPU priority (higher = more priority)", format: "int32", maximum: 1000000, minimum: 1 })),
    memoryLimit: Type.Optional(IntOrString({ description: "MemoryLimit is the maximum memory usage limit", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
    memoryReservation: Type.Optional(IntOrString({ description: "MemoryReservation is the guaranteed memory allocation", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
  }, { description: "ResourceLimits defines resource limits and reservations" })),
  securityProfile: Type.Optional(Type.Object({
    encryptionPolicy: Type.Optional(Type.Object({
      enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates if encryption should be used", default: false })),
      keyProvider: Type.Optional(StringEnum(["standard", "hardware", "external"], { description: "KeyProvider specifies the encryption key provider" })),
      requireEncryption: Type.Optional(Type.Boolean({ description: "RequireEncryption mandates encryption (fails if not available)", default: false })),
    }, { description: "EncryptionPolicy defines VM encryption settings" })),
    secureBoot: Type.Optional(Type.Boolean({ description: "SecureBoot enables secure boot functionality", default: false })),
    tpmEnabled: Type.Optional(Type.Boolean({ description: "TPMEnabled enables TPM (Trusted Platform Module)", default: false })),
    tpmVersion: Type.Optional(StringEnum(["1.2", "2.0"], { description: "TPMVersion specifies the TPM version. Upstream declared the enum as the numbers 1.2 and 2 on a string field, which no value can satisfy; ours takes the strings it meant." })),
    vtdEnabled: Type.Optional(Type.Boolean({ description: "VTDEnabled enables Intel VT-d or AMD-Vi", default: false })),
  }, { description: "SecurityProfile defines security-related settings" })),
}, { description: "VMClassSpec defines the desired state of VMClass" });
export type VMClassSpec = Static<typeof VMClassSpec>;

export const VMClassStatus = Type.Object({
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the latest available observations" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  supportedProviders: Type.Optional(Type.Array(Type.String(), { description: "SupportedProviders lists the providers that support this class" })),
  usedByVMs: Type.Optional(Type.Integer({ description: "UsedByVMs is the number of VMs currently using this class", format: "int32" })),
  validationResults: Type.Optional(StringMap(Type.Object({
    lastValidated: Type.Optional(Type.String({ description: "LastValidated is when this validation was last performed", format: "date-time" })),
    message: Type.Optional(Type.String({ description: "Message provides details about the validation result" })),
    valid: Type.Boolean({ description: "Valid indicates if the class is valid for the provider" }),
    warnings: Type.Optional(Type.Array(Type.String(), { description: "Warnings lists any validation warnings" })),
  }, { description: "ValidationResult represents a validation result for a provider" }), { description: "ValidationResults contains validation results for different providers" })),
}, { description: "VMClassStatus defines the observed state of VMClass" });
export type VMClassStatus = Static<typeof VMClassStatus>;

export const vmClassCrd: CrdDefinition = {
  kind: 'VMClass',
  plural: 'vmclasses',
  singular: 'vmclass',
  shortNames: ['vmclass'],
  description: 'Resource allocation and hardware profile (CPU, memory, firmware, security) that VMs use.',
  spec: VMClassSpec,
  status: VMClassStatus,
  printerColumns: [
    { name: 'CPU', type: 'integer', jsonPath: '.spec.cpu' },
    { name: 'Memory', type: 'string', jsonPath: '.spec.memory' },
    { name: 'Firmware', type: 'string', jsonPath: '.spec.firmware' },
    { name: 'Used By', type: 'integer', jsonPath: '.status.usedByVMs' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
