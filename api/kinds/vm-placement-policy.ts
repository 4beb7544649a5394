import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { described, IntOrString, StringEnum, StringMap } from '../schema/builders.ts';
import { LabelSelector } from '../schema/k8s-core.ts';
import { Condition } from '../schema/shared.ts';

export const VMLabelSelectorRequirement = Type.Object({
  key: Type.String({ description: "Key is the label key that the selector applies to", maxLength: 253 }),
  operator: Type.String({ description: "Operator represents a key's relationship to a set of values", allOf: [{"enum": ["In", "NotIn", "Exists", "DoesNotExist"]}, {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]}] }),
  values: Type.Optional(Type.Array(Type.String(), { description: "Values is an array of string values", maxItems: 50 })),
}, { description: "VMSelectorRequirement defines a VM selector requirement" });
export type VMLabelSelectorRequirement = Static<typeof VMLabelSelectorRequirement>;

export const VMToleration = Type.Object({
  effect: Type.Optional(StringEnum(["NoSchedule", "PreferNoSchedule", "NoExecute"], { description: "Effect indicates the taint effect to match" })),
  key: Type.Optional(Type.String({ description: "Key is the taint key that the toleration applies to", maxLength: 253 })),
  operator: Type.Optional(Type.String({ description: "Operator represents the relationship between the key and value", allOf: [{"enum": ["Exists", "Equal"]}, {"enum": ["Exists", "Equal"]}], default: "Equal" })),
  tolerationSeconds: Type.Optional(Type.Integer({ description: "TolerationSeconds represents the period of time the toleration tolerates the taint", format: "int64", minimum: 0 })),
  value: Type.Optional(Type.String({ description: "Value is the taint value the toleration matches to", maxLength: 253 })),
}, { description: "VMToleration represents a toleration for VM placement" });
export type VMToleration = Static<typeof VMToleration>;

export const PlacementConstraints = Type.Object({
  clusters: Type.Optional(Type.Array(Type.String(), { description: "Clusters specifies allowed clusters for VM placement", maxItems: 50 })),
  datastores: Type.Optional(Type.Array(Type.String(), { description: "Datastores specifies allowed datastores for VM placement", maxItems: 100 })),
  excludedClusters: Type.Optional(Type.Array(Type.String(), { description: "ExcludedClusters specifies clusters to exclude from placement", maxItems: 50 })),
  excludedDatastores: Type.Optional(Type.Array(Type.String(), { description: "ExcludedDatastores specifies datastores to exclude from placement", maxItems: 100 })),
  excludedHosts: Type.Optional(Type.Array(Type.String(), { description: "ExcludedHosts specifies hosts to exclude from placement", maxItems: 200 })),
  folders: Type.Optional(Type.Array(Type.String(), { description: "Folders specifies allowed folders for VM placement", maxItems: 50 })),
  hosts: Type.Optional(Type.Array(Type.String(), { description: "Hosts specifies allowed hosts for VM placement", maxItems: 200 })),
  networks: Type.Optional(Type.Array(Type.String(), { description: "Networks specifies allowed networks for VM placement", maxItems: 50 })),
  nodeSelector: Type.Optional(StringMap(Type.String(), { description: "NodeSelector specifies node selection criteria for libvirt provider", maxProperties: 20 })),
  regions: Type.Optional(Type.Array(Type.String(), { description: "Regions specifies allowed regions", maxItems: 20 })),
  resourcePools: Type.Optional(Type.Array(Type.String(), { description: "ResourcePools specifies allowed resource pools for VM placement", maxItems: 100 })),
  tolerations: Type.Optional(Type.Array(VMToleration, { description: "Tolerations specifies tolerations for node placement", maxItems: 20 })),
  zones: Type.Optional(Type.Array(Type.String(), { description: "Zones specifies allowed availability zones", maxItems: 20 })),
}, { description: "Hard constraints that must be satisfied for VM placement" });
export type PlacementConstraints = Static<typeof PlacementConstraints>;

export const VMAffinityTerm = Type.Object({
  labelSelector: Type.Optional(described(LabelSelector, "LabelSelector selects VMs for affinity rules")),
  matchExpressions: Type.Optional(Type.Array(VMLabelSelectorRequirement, { description: "MatchExpressions is a list of VM selector requirements", maxItems: 20 })),
  namespaceSelector: Type.Optional(described(LabelSelector, "NamespaceSelector selects namespaces using label selectors")),
  namespaces: Type.Optional(Type.Array(Type.String(), { description: "Namespaces specifies which namespaces to consider", maxItems: 20 })),
  topologyKey: Type.String({ description: "TopologyKey specifies the topology domain for the rule", maxLength: 253 }),
}, { description: "VMAffinityTerm defines the VM affinity term" });
export type VMAffinityTerm = Static<typeof VMAffinityTerm>;

export const WeightedVMAffinityTerm = Type.Object({
  vmAffinityTerm: VMAffinityTerm,
  weight: Type.Integer({ description: "Weight associated with matching the corresponding VMAffinityTerm", format: "int32", maximum: 100, minimum: 1 }),
}, { description: "WeightedVMAffinityTerm defines a weighted VM affinity term" });
export type WeightedVMAffinityTerm = Static<typeof WeightedVMAffinityTerm>;

export const VMPlacementPolicySpec = Type.Object({
  affinity: Type.Optional(Type.Object({
    applicationAffinity: Type.Optional(Type.Object({
      applicationLabel: Type.Optional(Type.String({ description: "ApplicationLabel specifies the label key used to identify applications", default: "app" })),
      enabled: Type.Boolean({ description: "Enabled indicates if application affinity is enabled" }),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the affinity rule" })),
    }, { description: "ApplicationAffinity encourages VMs from the same application to be co-located" })),
    clusterAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if cluster affinity is enabled" }),
      preferredClusters: Type.Optional(Type.Array(Type.String(), { description: "PreferredClusters lists preferred clusters", maxItems: 20 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the affinity rule" })),
    }, { description: "ClusterAffinity encourages VMs to be placed in the same cluster" })),
    datastoreAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if datastore affinity is enabled" }),
      preferredDatastores: Type.Optional(Type.Array(Type.String(), { description: "PreferredDatastores lists preferred datastores", maxItems: 50 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the affinity rule" })),
    }, { description: "DatastoreAffinity encourages VMs to be placed on the same datastore" })),
    hostAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if host affinity is enabled" }),
      preferredHosts: Type.Optional(Type.Array(Type.String(), { description: "PreferredHosts lists preferred hosts", maxItems: 50 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the affinity rule" })),
    }, { description: "HostAffinity encourages VMs to be placed on the same host" })),
    vmAffinity: Type.Optional(Type.Object({
      preferredDuringScheduling: Type.Optional(Type.Array(WeightedVMAffinityTerm, { description: "PreferredDuringScheduling specifies soft affinity rules", maxItems: 20 })),
      requiredDuringScheduling: Type.Optional(Type.Array(described(VMAffinityTerm, "VMAffinityTerm defines a VM affinity term"), { description: "RequiredDuringScheduling specifies hard affinity rules", maxItems: 20 })),
    }, { description: "VMAffinity defines affinity rules between VMs" })),
    zoneAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if zone affinity is enabled" }),
      preferredZones: Type.Optional(Type.Array(Type.String(), { description: "PreferredZones lists preferred zones", maxItems: 10 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the affinity rule" })),
    }, { description: "ZoneAffinity encourages VMs to be placed in the same zone" })),
  }, { description: "Affinity defines affinity rules for VMs" })),
  antiAffinity: Type.Optional(Type.Object({
    applicationAntiAffinity: Type.Optional(Type.Object({
      applicationLabel: Type.Optional(Type.String({ description: "ApplicationLabel specifies the label key used to identify applications", default: "app" })),
      enabled: Type.Boolean({ description: "Enabled indicates if application anti-affinity is enabled" }),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the anti-affinity rule" })),
    }, { description: "ApplicationAntiAffinity prevents VMs from different applications being co-located" })),
    clusterAntiAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if cluster anti-affinity is enabled" }),
      maxVMsPerCluster: Type.Optional(Type.Integer({ description: "MaxVMsPerCluster limits the number of VMs per cluster", format: "int32", maximum: 10000, minimum: 1 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the anti-affinity rule" })),
    }, { description: "ClusterAntiAffinity prevents VMs from being placed in the same cluster" })),
    datastoreAntiAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if datastore anti-affinity is enabled" }),
      maxVMsPerDatastore: Type.Optional(Type.Integer({ description: "MaxVMsPerDatastore limits the number of VMs per datastore", format: "int32", maximum: 10000, minimum: 1 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the anti-affinity rule" })),
    }, { description: "DatastoreAntiAffinity prevents VMs from being placed on the same datastore" })),
    hostAntiAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if host anti-affinity is enabled" }),
      maxVMsPerHost: Type.Optional(Type.Integer({ description: "MaxVMsPerHost limits the number of VMs per host", format: "int32", maximum: 1000, minimum: 1 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the anti-affinity rule" })),
    }, { description: "HostAntiAffinity prevents VMs from being placed on the same host" })),
    vmAntiAffinity: Type.Optional(Type.Object({
      preferredDuringScheduling: Type.Optional(Type.Array(WeightedVMAffinityTerm, { description: "PreferredDuringScheduling specifies soft anti-affinity rules", maxItems: 20 })),
      requiredDuringScheduling: Type.Optional(Type.Array(described(VMAffinityTerm, "VMAffinityTerm defines a VM affinity term"), { description: "RequiredDuringScheduling specifies hard anti-affinity rules", maxItems: 20 })),
    }, { description: "VMAntiAffinity defines anti-affinity rules between VMs" })),
    zoneAntiAffinity: Type.Optional(Type.Object({
      enabled: Type.Boolean({ description: "Enabled indicates if zone anti-affinity is enabled" }),
      maxVMsPerZone: Type.Optional(Type.Integer({ description: "MaxVMsPerZone limits the number of VMs per zone", format: "int32", maximum: 10000, minimum: 1 })),
      scope: Type.Optional(StringEnum(["strict", "preferred"], { description: "Scope defines the scope of the anti-affinity rule" })),
    }, { description: "ZoneAntiAffinity prevents VMs from being placed in the same zone" })),
  }, { description: "AntiAffinity defines anti-affinity rules for VMs" })),
  hard: Type.Optional(PlacementConstraints),
  priority: Type.Optional(Type.Integer({ description: "Priority defines the priority of this placement policy", format: "int32", maximum: 1000, minimum: 0 })),
  resourceConstraints: Type.Optional(Type.Object({
    maxCPUUtilization: Type.Optional(Type.Integer({ description: "MaxCPUUtilization specifies maximum allowed CPU utilization", format: "int32", maximum: 100, minimum: 0 })),
    maxDiskUtilization: Type.Optional(Type.Integer({ description: "MaxDiskUtilization specifies maximum allowed disk utilization", format: "int32", maximum: 100, minimum: 0 })),
    maxMemoryUtilization: Type.Optional(Type.Integer({ description: "MaxMemoryUtilization specifies maximum allowed memory utilization", format: "int32", maximum: 100, minimum: 0 })),
    minCPUPerHost: Type.Optional(Type.Integer({ description: "MinCPUPerHost specifies minimum CPU available per host", format: "int32", minimum: 1 })),
    minDiskSpacePerHost: Type.Optional(IntOrString({ description: "MinDiskSpacePerHost specifies minimum disk space available per host", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
    minMemoryPerHost: Type.Optional(IntOrString({ description: "MinMemoryPerHost specifies minimum memory available per host", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
    preferredFeatures: Type.Optional(Type.Array(Type.String(), { description: "PreferredFeatures lists preferred hardware features", maxItems: 20 })),
    requiredFeatures: Type.Optional(Type.Array(Type.String(), { description: "RequiredFeatures lists required hardware features", maxItems: 20 })),
  }, { description: "ResourceConstraints defines resource-based placement constraints" })),
  securityConstraints: Type.Optional(Type.Object({
    allowedSecurityGroups: Type.Optional(Type.Array(Type.String(), { description: "AllowedSecurityGroups lists allowed security groups", maxItems: 20 })),
    deniedSecurityGroups: Type.Optional(Type.Array(Type.String(), { description: "DeniedSecurityGroups lists denied security groups", maxItems: 20 })),
    isolationLevel: Type.Optional(StringEnum(["none", "basic", "strict", "maximum"], { description: "IsolationLevel specifies the required isolation level" })),
    requireEncryptedStorage: Type.Optional(Type.Boolean({ description: "RequireEncryptedStorage requires hosts that support encrypted storage" })),
    requireNUMATopology: Type.Optional(Type.Boolean({ description: "RequireNUMATopology requires hosts that support NUMA topology" })),
    requireSecureBoot: Type.Optional(Type.Boolean({ description: "RequireSecureBoot requires hosts that support secure boot" })),
    requireTPM: Type.Optional(Type.Boolean({ description: "RequireTPM requires hosts that support TPM" })),
    trustLevel: Type.Optional(StringEnum(["untrusted", "basic", "trusted", "highly-trusted"], { description: "TrustLevel specifies the required trust level" })),
  }, { description: "SecurityConstraints defines security-based placement constraints" })),
  soft: Type.Optional(described(PlacementConstraints, "Soft constraints that should be satisfied if possible")),
  weight: Type.Optional(Type.Integer({ description: "Weight defines the weight of this placement policy", format: "int32", maximum: 100, minimum: 1 })),
}, { description: "VMPlacementPolicySpec defines the desired state of VMPlacementPolicy" });
export type VMPlacementPolicySpec = Static<typeof VMPlacementPolicySpec>;

export const VMPlacementPolicyStatus = Type.Object({
  usedByVMCount: Type.Optional(Type.Integer({ description: "UsedByVMCount is the number of VMs in usedByVMs, for the printer column", format: "int32", minimum: 0 })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the current service state" })),
  conflictingPolicies: Type.Optional(Type.Array(Type.Object({
    conflictType: StringEnum(["hard", "soft", "resource", "security", "affinity"], { description: "ConflictType describes the type of conflict" }),
    description: Type.Optional(Type.String({ description: "Description provides details about the conflict" })),
    policyName: Type.String({ description: "PolicyName is the name of the conflicting policy" }),
    resolutionSuggestion: Type.Optional(Type.String({ description: "ResolutionSuggestion provides suggestions for resolving the conflict" })),
    severity: Type.Optional(StringEnum(["low", "medium", "high", "critical"], { description: "Severity indicates the severity of the conflict" })),
  }, { description: "PolicyConflict represents a conflict between policies" }), { description: "ConflictingPolicies lists policies that conflict with this policy", maxItems: 50 })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration is the most recent generation observed by the controller", format: "int64" })),
  placementStats: Type.Optional(Type.Object({
    averagePlacementTime: Type.Optional(Type.String({ description: "AveragePlacementTime is the average time for VM placement" })),
    constraintViolations: Type.Optional(Type.Integer({ description: "ConstraintViolations is the number of constraint violations", format: "int32" })),
    failedPlacements: Type.Optional(Type.Integer({ description: "FailedPlacements is the number of failed placements", format: "int32" })),
    lastPlacementTime: Type.Optional(Type.String({ description: "LastPlacementTime is when the last VM was placed using this policy", format: "date-time" })),
    placementDistribution: Type.Optional(StringMap(Type.Integer({ format: "int32" }), { description: "PlacementDistribution shows how VMs are distributed across hosts/clusters" })),
    successfulPlacements: Type.Optional(Type.Integer({ description: "SuccessfulPlacements is the number of successful placements", format: "int32" })),
    totalPlacements: Type.Optional(Type.Integer({ description: "TotalPlacements is the total number of VM placements using this policy", format: "int32" })),
  }, { description: "PlacementStats provides statistics about VM placements using this policy" })),
  usedByVMs: Type.Optional(Type.Array(Type.Object({
    name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  }, { description: "LocalObjectReference represents a reference to an object in the same namespace" }), { description: "UsedByVMs lists VMs currently using this policy", maxItems: 1000 })),
  validationResults: Type.Optional(StringMap(Type.Object({
    errors: Type.Optional(Type.Array(Type.String(), { description: "Errors lists any validation errors", maxItems: 20 })),
    lastValidated: Type.Optional(Type.String({ description: "LastValidated is when this validation was last performed", format: "date-time" })),
    message: Type.Optional(Type.String({ description: "Message provides details about the validation result" })),
    supportedFeatures: Type.Optional(Type.Array(Type.String(), { description: "SupportedFeatures lists features supported by the provider", maxItems: 50 })),
    unsupportedFeatures: Type.Optional(Type.Array(Type.String(), { description: "UnsupportedFeatures lists features not supported by the provider", maxItems: 50 })),
    valid: Type.Boolean({ description: "Valid indicates if the policy is valid for the provider" }),
    warnings: Type.Optional(Type.Array(Type.String(), { description: "Warnings lists any validation warnings", maxItems: 20 })),
  }, { description: "PolicyValidationResult represents a validation result for a provider" }), { description: "ValidationResults contains validation results for different providers" })),
}, { description: "VMPlacementPolicyStatus defines the observed state of VMPlacementPolicy" });
export type VMPlacementPolicyStatus = Static<typeof VMPlacementPolicyStatus>;

export const vmPlacementPolicyCrd: CrdDefinition = {
  kind: 'VMPlacementPolicy',
  plural: 'vmplacementpolicies',
  singular: 'vmplacementpolicy',
  shortNames: ['vmpp'],
  description: 'Placement rules (allowed clusters, hosts, datastores, affinity, limits) that VMs referring to it follow.',
  spec: VMPlacementPolicySpec,
  status: VMPlacementPolicyStatus,
  printerColumns: [
    { name: 'Used By VMs', type: 'integer', jsonPath: '.status.usedByVMCount', description: 'Number of VMs using this policy (upstream pointed this integer column at the usedByVMs object list, which never rendered)' },
    { name: 'Priority', type: 'integer', jsonPath: '.spec.priority' },
    { name: 'Successful', type: 'integer', jsonPath: '.status.placementStats.successfulPlacements' },
    { name: 'Failed', type: 'integer', jsonPath: '.status.placementStats.failedPlacements' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
