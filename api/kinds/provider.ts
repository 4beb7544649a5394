import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { described, StringEnum, StringMap } from '../schema/builders.ts';
import { Affinity, EnvVar, LocalObjectReference, PodSecurityContext, Probe, ResourceRequirements, Toleration } from '../schema/k8s-core.ts';
import { Condition, NamespacedObjectReference } from '../schema/shared.ts';

export const ResourceQuantityPair = Type.Object({
  available: Type.Optional(Type.Integer({ description: "Available capacity", format: "int64" })),
  total: Type.Optional(Type.Integer({ description: "Total available capacity", format: "int64" })),
  usagePercent: Type.Optional(Type.Integer({ description: "Usage percentage (0-100)", format: "int32" })),
  used: Type.Optional(Type.Integer({ description: "Used capacity", format: "int64" })),
}, { description: "CPU usage statistics" });
export type ResourceQuantityPair = Static<typeof ResourceQuantityPair>;

/** The original's endpoint pattern; ours also takes `mock://…` for the simulated hypervisor. */
export const UPSTREAM_ENDPOINT_PATTERN =
  "^((https?://[a-zA-Z0-9.-]+(:[0-9]+)?(/.*)?|(tcp|grpc)://[a-zA-Z0-9.-]+:[0-9]+(/.*)?)|qemu(\\+ssh|\\+tcp|\\+tls)?://([a-zA-Z0-9@.-]+(:[0-9]+)?)?(/.*))$";

export const ProviderSpec = Type.Object({
  connectionPooling: Type.Optional(Type.Object({
    connectionTimeout: Type.Optional(Type.String({ description: "ConnectionTimeout is the timeout for establishing connections", default: "30s" })),
    idleTimeout: Type.Optional(Type.String({ description: "IdleTimeout is the timeout for idle connections", default: "5m" })),
    maxConnections: Type.Optional(Type.Integer({ description: "MaxConnections is the maximum number of connections to maintain", default: 10, format: "int32", maximum: 100, minimum: 1 })),
    maxIdleConnections: Type.Optional(Type.Integer({ description: "MaxIdleConnections is the maximum number of idle connections", default: 5, format: "int32", minimum: 1 })),
  }, { description: "ConnectionPooling defines connection pooling settings" })),
  credentialSecretRef: NamespacedObjectReference,
  defaults: Type.Optional(Type.Object({
    cluster: Type.Optional(Type.String({ description: "Cluster specifies the default cluster", maxLength: 255 })),
    datastore: Type.Optional(Type.String({ description: "Datastore specifies the default datastore.\nMutually exclusive with StoragePod; Datastore takes precedence if both are set.", maxLength: 255 })),
    folder: Type.Optional(Type.String({ description: "Folder specifies the default folder", maxLength: 255 })),
    network: Type.Optional(Type.String({ description: "Network specifies the default network", maxLength: 255 })),
    resourcePool: Type.Optional(Type.String({ description: "ResourcePool specifies the default resource pool", maxLength: 255 })),
    storagePod: Type.Optional(Type.String({ description: "StoragePod specifies a vSphere Datastore Cluster (StoragePod) used as the default\nfor automatic datastore selection when no explicit Datastore is specified.", maxLength: 255 })),
  }, { description: "Defaults provides default placement settings" })),
  endpoint: Type.String({ description: "Endpoint is the provider endpoint URI\nSupports multiple protocols: HTTP(S), TCP, gRPC for general providers\nand LibVirt-specific schemes: qemu://, qemu+ssh://, qemu+tcp://, qemu+tls://, and mock:// for the simulated hypervisor", pattern: `^mock://[a-zA-Z0-9.-]*$|${UPSTREAM_ENDPOINT_PATTERN}` }),
  healthCheck: Type.Optional(Type.Object({
    enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates whether health checking is enabled.\n\nDefaults to true. Deliberately NOT `omitempty` — a defaulted bool with\nomitempty has its explicit `false` dropped and re-defaulted to true on\nthe next write (see ProviderTLSSpec.Enabled for the full rationale).", default: true })),
    failureThreshold: Type.Optional(Type.Integer({ description: "FailureThreshold is the number of consecutive failures before marking unhealthy", default: 3, format: "int32", maximum: 10, minimum: 1 })),
    interval: Type.Optional(Type.String({ description: "Interval defines how often to check provider health", default: "30s" })),
    successThreshold: Type.Optional(Type.Integer({ description: "SuccessThreshold is the number of consecutive successes before marking healthy", default: 1, format: "int32", maximum: 10, minimum: 1 })),
    timeout: Type.Optional(Type.String({ description: "Timeout defines the timeout for health checks", default: "10s" })),
  }, { description: "HealthCheck defines health checking configuration" })),
  insecureSkipVerify: Type.Optional(Type.Boolean({ description: "InsecureSkipVerify disables TLS verification (deprecated, use runtime.service.tls.insecureSkipVerify)", default: false })),
  rateLimit: Type.Optional(Type.Object({
    burst: Type.Optional(Type.Integer({ description: "Burst specifies the burst capacity", default: 20, maximum: 2000, minimum: 1 })),
    qps: Type.Optional(Type.Integer({ description: "QPS specifies queries per second", default: 10, maximum: 1000, minimum: 1 })),
  }, { description: "RateLimit configures API rate limiting" })),
  runtime: Type.Object({
    affinity: Type.Optional(Affinity),
    env: Type.Optional(Type.Array(EnvVar, { description: "Env defines additional environment variables for provider pods", maxItems: 50 })),
    image: Type.String({ description: "Image is the container image for remote providers (required)\nSupports formats: image:tag, image@digest, or image:tag@digest", pattern: "^[a-zA-Z0-9._/-]+(:[a-zA-Z0-9._-]+)?(@[a-zA-Z0-9]+:[a-fA-F0-9]{64})?$" }),
    imagePullPolicy: Type.Optional(StringEnum(["Always", "Never", "IfNotPresent"], { description: "ImagePullPolicy defines the image pull policy", default: "IfNotPresent" })),
    imagePullSecrets: Type.Optional(Type.Array(LocalObjectReference, { description: "ImagePullSecrets are references to secrets for pulling images", maxItems: 10 })),
    livenessProbe: Type.Optional(Probe),
    logFormat: Type.Optional(StringEnum(["text", "json"], { description: "LogFormat sets the log format for provider pods", default: "text" })),
    logLevel: Type.Optional(StringEnum(["debug", "info", "warn", "error"], { description: "LogLevel sets the log level for provider pods\nDefaults to the controller's log level if not specified", default: "info" })),
    mode: Type.Optional(StringEnum(["Remote"], { description: "Mode specifies the runtime mode (always Remote)", default: "Remote" })),
    nodeSelector: Type.Optional(StringMap(Type.String(), { description: "NodeSelector is a selector which must be true for the pod to fit on a node" })),
    readinessProbe: Type.Optional(described(Probe, "ReadinessProbe defines the readiness probe for provider pods")),
    replicas: Type.Optional(Type.Integer({ description: "Replicas is the number of provider instances (default 1)", default: 1, format: "int32", maximum: 10, minimum: 1 })),
    resources: Type.Optional(ResourceRequirements),
    securityContext: Type.Optional(PodSecurityContext),
    service: Type.Optional(Type.Object({
      port: Type.Optional(Type.Integer({ description: "Port is the gRPC service port", default: 9443, format: "int32", maximum: 65535, minimum: 1024 })),
      tls: Type.Optional(Type.Object({
        enabled: Type.Optional(Type.Boolean({ description: "Enabled determines if TLS is enabled for provider communication.\n\nDefaults to true. Deliberately NOT `omitempty`: this field has a default\nof true, so omitempty drops an explicit `false` when the object is\nre-serialized (e.g. by a controller Update), letting the apiserver\nre-apply the default and silently flip tls.enabled false→true — which\nthen trips the TLS posture gate (enabled=true + no secretRef → runtime\nFailed). Always serializing it keeps an explicit plaintext opt-out durable.", default: true })),
        insecureSkipVerify: Type.Optional(Type.Boolean({ description: "InsecureSkipVerify disables TLS certificate verification", default: false })),
        secretRef: Type.Optional(described(LocalObjectReference, "SecretRef references a secret containing tls.crt, tls.key, and ca.crt")),
      }, { description: "TLS defines TLS configuration for the service" })),
    }, { description: "Service defines the service configuration" })),
    tolerations: Type.Optional(Type.Array(Toleration, { description: "Tolerations allow pods to schedule onto nodes with matching taints", maxItems: 20 })),
  }, { description: "Runtime defines how the provider is executed (required)" }),
  type: StringEnum(["vsphere", "libvirt", "firecracker", "qemu", "proxmox", "mock"], { description: "Type specifies the provider type. `mock` is a simulated hypervisor for tests, benchmarks and the local demo (not in the original)." }),
}, { description: "ProviderSpec defines the desired state of Provider" });
export type ProviderSpec = Static<typeof ProviderSpec>;

export const ProviderStatus = Type.Object({
  adoption: Type.Optional(Type.Object({
    adoptedVMs: Type.Optional(Type.Integer({ description: "AdoptedVMs is the count of VMs successfully adopted", format: "int32" })),
    discoveredVMs: Type.Optional(Type.Integer({ description: "DiscoveredVMs is the count of VMs found in provider", format: "int32" })),
    failedAdoptions: Type.Optional(Type.Integer({ description: "FailedAdoptions is the count of failed adoption attempts", format: "int32" })),
    lastDiscoveryTime: Type.Optional(Type.String({ description: "LastDiscoveryTime is when VMs were last discovered", format: "date-time" })),
    message: Type.Optional(Type.String({ description: "Message provides details about adoption status" })),
  }, { description: "Adoption tracks VM adoption status" })),
  capabilities: Type.Optional(Type.Array(StringEnum(["VirtualMachines", "Snapshots", "Cloning", "LiveMigration", "ConsoleAccess", "DiskManagement", "NetworkManagement", "GPUPassthrough", "HighAvailability", "Backup", "Templates"], { description: "ProviderCapability represents a provider capability" }), { description: "Capabilities lists the provider's supported capabilities" })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the latest available observations" })),
  connectedVMs: Type.Optional(Type.Integer({ description: "ConnectedVMs is the number of VMs currently managed by this provider", format: "int32" })),
  healthy: Type.Optional(Type.Boolean({ description: "Healthy indicates if the provider is healthy" })),
  lastHealthCheck: Type.Optional(Type.String({ description: "LastHealthCheck records the last health check time", format: "date-time" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  reportedCapabilities: Type.Optional(Type.Object({
    supportedDiskTypes: Type.Optional(Type.Array(Type.String(), { description: "SupportedDiskTypes lists supported disk formats." })),
    supportedExportBackends: Type.Optional(Type.Array(Type.String(), { description: "SupportedExportBackends lists the storage backends the provider can export\ndisks to (e.g. \"pvc\", \"nfs\", \"s3\"). Empty/absent means pvc-only, the\npre-ADR-0006 default (ADR-0006 Slice 0)." })),
    supportedExportFormats: Type.Optional(Type.Array(Type.String(), { description: "SupportedExportFormats lists supported export formats." })),
    supportedImportBackends: Type.Optional(Type.Array(Type.String(), { description: "SupportedImportBackends lists the storage backends the provider can import\ndisks from (e.g. \"pvc\", \"nfs\", \"s3\"). Empty/absent means pvc-only\n(ADR-0006 Slice 0)." })),
    supportedImportFormats: Type.Optional(Type.Array(Type.String(), { description: "SupportedImportFormats lists supported import formats." })),
    supportedNetworkTypes: Type.Optional(Type.Array(Type.String(), { description: "SupportedNetworkTypes lists supported NIC models." })),
    supportedTransferModes: Type.Optional(Type.Array(Type.String(), { description: "SupportedTransferModes lists the disk-transfer modes the provider supports\n(e.g. \"relay\", \"direct\"). Empty/absent means relay-only, the pod-side path\nthat predates ADR-0006 (ADR-0006 Slice 0)." })),
    supportsDiskExpansionOnline: Type.Optional(Type.Boolean({ description: "SupportsDiskExpansionOnline reports online disk expansion support." })),
    supportsDiskExport: Type.Optional(Type.Boolean({ description: "SupportsDiskExport reports disk export (migration source) support." })),
    supportsDiskImport: Type.Optional(Type.Boolean({ description: "SupportsDiskImport reports disk import (migration target) support." })),
    supportsExportCompression: Type.Optional(Type.Boolean({ description: "SupportsExportCompression reports export compression support." })),
    supportsImageImport: Type.Optional(Type.Boolean({ description: "SupportsImageImport reports image import/preparation support." })),
    supportsLinkedClones: Type.Optional(Type.Boolean({ description: "SupportsLinkedClones reports linked (copy-on-write) clone support." })),
    supportsMemorySnapshots: Type.Optional(Type.Boolean({ description: "SupportsMemorySnapshots reports memory-inclusive snapshot support." })),
    supportsReconfigureOnline: Type.Optional(Type.Boolean({ description: "SupportsReconfigureOnline reports online CPU/memory reconfigure support." })),
    supportsSnapshots: Type.Optional(Type.Boolean({ description: "SupportsSnapshots reports VM snapshot support." })),
  }, { description: "ReportedCapabilities is the provider's self-reported capability set,\nfetched from the provider GetCapabilities RPC (issue #176). It reflects\nwhat the running provider advertises and is consumed by the manager to\nsurface features and (when capability enforcement is enabled) to gate\ncapability-dependent operations." })),
  resourceUsage: Type.Optional(Type.Object({
    cpu: Type.Optional(ResourceQuantityPair),
    memory: Type.Optional(described(ResourceQuantityPair, "Memory usage statistics")),
    network: Type.Optional(Type.Object({
      bytesReceived: Type.Optional(Type.Integer({ description: "BytesReceived is the total bytes received", format: "int64" })),
      bytesSent: Type.Optional(Type.Integer({ description: "BytesSent is the total bytes sent", format: "int64" })),
      packetsReceived: Type.Optional(Type.Integer({ description: "PacketsReceived is the total packets received", format: "int64" })),
      packetsSent: Type.Optional(Type.Integer({ description: "PacketsSent is the total packets sent", format: "int64" })),
    }, { description: "Network usage statistics" })),
    storage: Type.Optional(described(ResourceQuantityPair, "Storage usage statistics")),
  }, { description: "ResourceUsage provides resource usage statistics" })),
  runtime: Type.Optional(Type.Object({
    availableReplicas: Type.Optional(Type.Integer({ description: "AvailableReplicas is the number of available provider replicas", format: "int32" })),
    endpoint: Type.Optional(Type.String({ description: "Endpoint is the gRPC endpoint (host:port) for remote providers" })),
    message: Type.Optional(Type.String({ description: "Message provides additional details about the runtime status" })),
    mode: Type.Optional(StringEnum(["Remote"], { description: "Mode indicates the current runtime mode" })),
    phase: Type.Optional(StringEnum(["Pending", "Starting", "Running", "Stopping", "Failed"], { description: "Phase indicates the runtime phase" })),
    readyReplicas: Type.Optional(Type.Integer({ description: "ReadyReplicas is the number of ready provider replicas", format: "int32" })),
    serviceRef: Type.Optional(described(LocalObjectReference, "ServiceRef references the Kubernetes service for remote providers")),
  }, { description: "Runtime provides runtime status information" })),
  version: Type.Optional(Type.String({ description: "Version reports the provider version" })),
}, { description: "ProviderStatus defines the observed state of Provider" });
export type ProviderStatus = Static<typeof ProviderStatus>;

export const providerCrd: CrdDefinition = {
  kind: 'Provider',
  plural: 'providers',
  singular: 'provider',
  shortNames: ['prov'],
  description: 'A hypervisor endpoint (vSphere, Libvirt/KVM or Proxmox VE) and the agents that drive it.',
  spec: ProviderSpec,
  status: ProviderStatus,
  printerColumns: [
    { name: 'Type', type: 'string', jsonPath: '.spec.type' },
    { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint' },
    { name: 'Healthy', type: 'boolean', jsonPath: '.status.healthy' },
    { name: 'Connected VMs', type: 'integer', jsonPath: '.status.connectedVMs' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Agents', type: 'integer', jsonPath: '.status.runtime.availableReplicas', description: 'Agent replicas available' },
    { name: 'Version', type: 'string', jsonPath: '.status.version', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
