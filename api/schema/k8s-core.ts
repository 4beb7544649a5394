import { Type, type Static } from '@sinclair/typebox';
import { described, IntOrString, StringMap } from './builders.ts';
import { LabelSelectorRequirement } from './shared.ts';

export const HTTPHeader = Type.Object({
  name: Type.String({ description: "The header field name.\nThis will be canonicalized upon output, so case-variant names will be understood as the same header." }),
  value: Type.String({ description: "The header field value" }),
}, { description: "HTTPHeader describes a custom header to be used in HTTP probes" });
export type HTTPHeader = Static<typeof HTTPHeader>;

export const ResourceList = StringMap(IntOrString({ pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" }), { description: "Limits describes the maximum amount of compute resources allowed.\nMore info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/" });
export type ResourceList = Static<typeof ResourceList>;

export const TCPSocketAction = Type.Object({
  host: Type.Optional(Type.String({ description: "Optional: Host name to connect to, defaults to the pod IP." })),
  port: IntOrString({ description: "Number or name of the port to access on the container.\nNumber must be in the range 1 to 65535.\nName must be an IANA_SVC_NAME." }),
}, { description: "TCPSocket specifies a connection to a TCP port." });
export type TCPSocketAction = Static<typeof TCPSocketAction>;

export const GRPCAction = Type.Object({
  port: Type.Integer({ description: "Port number of the gRPC service. Number must be in the range 1 to 65535.", format: "int32" }),
  service: Type.Optional(Type.String({ description: "Service is the name of the service to place in the gRPC HealthCheckRequest\n(see https://github.com/grpc/grpc/blob/master/doc/health-checking.md).\n\nIf this is not specified, the default behavior is defined by gRPC.", default: "" })),
}, { description: "GRPC specifies a GRPC HealthCheckRequest." });
export type GRPCAction = Static<typeof GRPCAction>;

export const LocalObjectReference = Type.Object({
  name: Type.Optional(Type.String({ description: "Name of the referent.\nThis field is effectively required, but due to backwards compatibility is\nallowed to be empty. Instances of this type with an empty value here are\nalmost certainly wrong.\nMore info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names", default: "" })),
}, { description: "LocalObjectReference contains enough information to let you locate the\nreferenced object inside the same namespace.", "x-kubernetes-map-type": "atomic" });
export type LocalObjectReference = Static<typeof LocalObjectReference>;

export const ExecAction = Type.Object({
  command: Type.Optional(Type.Array(Type.String(), { description: "Command is the command line to execute inside the container, the working directory for the\ncommand  is root ('/') in the container's filesystem. The command is simply exec'd, it is\nnot run inside a shell, so traditional shell instructions ('|', etc) won't work. To use\na shell, you need to explicitly call out to that shell.\nExit status of 0 is treated as live/healthy and non-zero is unhealthy.", "x-kubernetes-list-type": "atomic" })),
}, { description: "Exec specifies a command to execute in the container." });
export type ExecAction = Static<typeof ExecAction>;

export const NodeSelectorRequirement = Type.Object({
  key: Type.String({ description: "The label key that the selector applies to." }),
  operator: Type.String({ description: "Represents a key's relationship to a set of values.\nValid operators are In, NotIn, Exists, DoesNotExist. Gt, and Lt." }),
  values: Type.Optional(Type.Array(Type.String(), { description: "An array of string values. If the operator is In or NotIn,\nthe values array must be non-empty. If the operator is Exists or DoesNotExist,\nthe values array must be empty. If the operator is Gt or Lt, the values\narray must have a single element, which will be interpreted as an integer.\nThis array is replaced during a strategic merge patch.", "x-kubernetes-list-type": "atomic" })),
}, { description: "A node selector requirement is a selector that contains values, a key, and an operator\nthat relates the key and values." });
export type NodeSelectorRequirement = Static<typeof NodeSelectorRequirement>;

export const HTTPGetAction = Type.Object({
  host: Type.Optional(Type.String({ description: "Host name to connect to, defaults to the pod IP. You probably want to set\n\"Host\" in httpHeaders instead." })),
  httpHeaders: Type.Optional(Type.Array(HTTPHeader, { description: "Custom headers to set in the request. HTTP allows repeated headers.", "x-kubernetes-list-type": "atomic" })),
  path: Type.Optional(Type.String({ description: "Path to access on the HTTP server." })),
  port: IntOrString({ description: "Name or number of the port to access on the container.\nNumber must be in the range 1 to 65535.\nName must be an IANA_SVC_NAME." }),
  scheme: Type.Optional(Type.String({ description: "Scheme to use for connecting to the host.\nDefaults to HTTP." })),
}, { description: "HTTPGet specifies an HTTP GET request to perform." });
export type HTTPGetAction = Static<typeof HTTPGetAction>;

export const Toleration = Type.Object({
  effect: Type.Optional(Type.String({ description: "Effect indicates the taint effect to match. Empty means match all taint effects.\nWhen specified, allowed values are NoSchedule, PreferNoSchedule and NoExecute." })),
  key: Type.Optional(Type.String({ description: "Key is the taint key that the toleration applies to. Empty means match all taint keys.\nIf the key is empty, operator must be Exists; this combination means to match all values and all keys." })),
  operator: Type.Optional(Type.String({ description: "Operator represents a key's relationship to the value.\nValid operators are Exists and Equal. Defaults to Equal.\nExists is equivalent to wildcard for value, so that a pod can\ntolerate all taints of a particular category." })),
  tolerationSeconds: Type.Optional(Type.Integer({ description: "TolerationSeconds represents the period of time the toleration (which must be\nof effect NoExecute, otherwise this field is ignored) tolerates the taint. By default,\nit is not set, which means tolerate the taint forever (do not evict). Zero and\nnegative values will be treated as 0 (evict immediately) by the system.", format: "int64" })),
  value: Type.Optional(Type.String({ description: "Value is the taint value the toleration matches to.\nIf the operator is Exists, the value should be empty, otherwise just a regular string." })),
}, { description: "The pod this Toleration is attached to tolerates any taint that matches\nthe triple <key,value,effect> using the matching operator <operator>." });
export type Toleration = Static<typeof Toleration>;

export const LabelSelector = Type.Object({
  matchExpressions: Type.Optional(Type.Array(LabelSelectorRequirement, { description: "matchExpressions is a list of label selector requirements. The requirements are ANDed.", "x-kubernetes-list-type": "atomic" })),
  matchLabels: Type.Optional(StringMap(Type.String(), { description: "matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels\nmap is equivalent to an element of matchExpressions, whose key field is \"key\", the\noperator is \"In\", and the values array contains only \"value\". The requirements are ANDed." })),
}, { description: "Selector is a label query over VMs that should match the replica count", "x-kubernetes-map-type": "atomic" });
export type LabelSelector = Static<typeof LabelSelector>;

export const ResourceRequirements = Type.Object({
  claims: Type.Optional(Type.Array(Type.Object({
    name: Type.String({ description: "Name must match the name of one entry in pod.spec.resourceClaims of\nthe Pod where this field is used. It makes that resource available\ninside a container." }),
    request: Type.Optional(Type.String({ description: "Request is the name chosen for a request in the referenced claim.\nIf empty, everything from the claim is made available, otherwise\nonly the result of this request." })),
  }, { description: "ResourceClaim references one entry in PodSpec.ResourceClaims." }), { description: "Claims lists the names of resources, defined in spec.resourceClaims,\nthat are used by this container.\n\nThis is an alpha field and requires enabling the\nDynamicResourceAllocation feature gate.\n\nThis field is immutable. It can only be set for containers.", "x-kubernetes-list-map-keys": ["name"], "x-kubernetes-list-type": "map" })),
  limits: Type.Optional(ResourceList),
  requests: Type.Optional(described(ResourceList, "Requests describes the minimum amount of compute resources required.\nIf Requests is omitted for a container, it defaults to Limits if that is explicitly specified,\notherwise to an implementation-defined value. Requests cannot exceed Limits.\nMore info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/")),
}, { description: "Resources defines resource requirements for provider pods" });
export type ResourceRequirements = Static<typeof ResourceRequirements>;

export const NodeSelectorTerm = Type.Object({
  matchExpressions: Type.Optional(Type.Array(NodeSelectorRequirement, { description: "A list of node selector requirements by node's labels.", "x-kubernetes-list-type": "atomic" })),
  matchFields: Type.Optional(Type.Array(NodeSelectorRequirement, { description: "A list of node selector requirements by node's fields.", "x-kubernetes-list-type": "atomic" })),
}, { description: "A node selector term, associated with the corresponding weight.", "x-kubernetes-map-type": "atomic" });
export type NodeSelectorTerm = Static<typeof NodeSelectorTerm>;

export const EnvVar = Type.Object({
  name: Type.String({ description: "Name of the environment variable. Must be a C_IDENTIFIER." }),
  value: Type.Optional(Type.String({ description: "Variable references $(VAR_NAME) are expanded\nusing the previously defined environment variables in the container and\nany service environment variables. If a variable cannot be resolved,\nthe reference in the input string will be unchanged. Double $$ are reduced\nto a single $, which allows for escaping the $(VAR_NAME) syntax: i.e.\n\"$$(VAR_NAME)\" will produce the string literal \"$(VAR_NAME)\".\nEscaped references will never be expanded, regardless of whether the variable\nexists or not.\nDefaults to \"\"." })),
  valueFrom: Type.Optional(Type.Object({
    configMapKeyRef: Type.Optional(Type.Object({
      key: Type.String({ description: "The key to select." }),
      name: Type.Optional(Type.String({ description: "Name of the referent.\nThis field is effectively required, but due to backwards compatibility is\nallowed to be empty. Instances of this type with an empty value here are\nalmost certainly wrong.\nMore info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names", default: "" })),
      optional: Type.Optional(Type.Boolean({ description: "Specify whether the ConfigMap or its key must be defined" })),
    }, { description: "Selects a key of a ConfigMap.", "x-kubernetes-map-type": "atomic" })),
    fieldRef: Type.Optional(Type.Object({
      apiVersion: Type.Optional(Type.String({ description: "Version of the schema the FieldPath is written in terms of, defaults to \"v1\"." })),
      fieldPath: Type.String({ description: "Path of the field to select in the specified API version." }),
    }, { description: "Selects a field of the pod: supports metadata.name, metadata.namespace, `metadata.labels['<KEY>']`, `metadata.annotations['<KEY>']`,\nspec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP, status.podIPs.", "x-kubernetes-map-type": "atomic" })),
    resourceFieldRef: Type.Optional(Type.Object({
      containerName: Type.Optional(Type.String({ description: "Container name: required for volumes, optional for env vars" })),
      divisor: Type.Optional(IntOrString({ description: "Specifies the output format of the exposed resources, defaults to \"1\"", pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" })),
      resource: Type.String({ description: "Required: resource to select" }),
    }, { description: "Selects a resource of the container: only resources limits and requests\n(limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory and requests.ephemeral-storage) are currently supported.", "x-kubernetes-map-type": "atomic" })),
    secretKeyRef: Type.Optional(Type.Object({
      key: Type.String({ description: "The key of the secret to select from.  Must be a valid secret key." }),
      name: Type.Optional(Type.String({ description: "Name of the referent.\nThis field is effectively required, but due to backwards compatibility is\nallowed to be empty. Instances of this type with an empty value here are\nalmost certainly wrong.\nMore info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names", default: "" })),
      optional: Type.Optional(Type.Boolean({ description: "Specify whether the Secret or its key must be defined" })),
    }, { description: "Selects a key of a secret in the pod's namespace", "x-kubernetes-map-type": "atomic" })),
  }, { description: "Source for the environment variable's value. Cannot be used if value is not empty." })),
}, { description: "EnvVar represents an environment variable present in a Container." });
export type EnvVar = Static<typeof EnvVar>;

export const Probe = Type.Object({
  exec: Type.Optional(ExecAction),
  failureThreshold: Type.Optional(Type.Integer({ description: "Minimum consecutive failures for the probe to be considered failed after having succeeded.\nDefaults to 3. Minimum value is 1.", format: "int32" })),
  grpc: Type.Optional(GRPCAction),
  httpGet: Type.Optional(HTTPGetAction),
  initialDelaySeconds: Type.Optional(Type.Integer({ description: "Number of seconds after the container has started before liveness probes are initiated.\nMore info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes", format: "int32" })),
  periodSeconds: Type.Optional(Type.Integer({ description: "How often (in seconds) to perform the probe.\nDefault to 10 seconds. Minimum value is 1.", format: "int32" })),
  successThreshold: Type.Optional(Type.Integer({ description: "Minimum consecutive successes for the probe to be considered successful after having failed.\nDefaults to 1. Must be 1 for liveness and startup. Minimum value is 1.", format: "int32" })),
  tcpSocket: Type.Optional(TCPSocketAction),
  terminationGracePeriodSeconds: Type.Optional(Type.Integer({ description: "Optional duration in seconds the pod needs to terminate gracefully upon probe failure.\nThe grace period is the duration in seconds after the processes running in the pod are sent\na termination signal and the time when the processes are forcibly halted with a kill signal.\nSet this value longer than the expected cleanup time for your process.\nIf this value is nil, the pod's terminationGracePeriodSeconds will be used. Otherwise, this\nvalue overrides the value provided by the pod spec.\nValue must be non-negative integer. The value zero indicates stop immediately via\nthe kill signal (no opportunity to shut down).\nThis is a beta field and requires enabling ProbeTerminationGracePeriod feature gate.\nMinimum value is 1. spec.terminationGracePeriodSeconds is used if unset.", format: "int64" })),
  timeoutSeconds: Type.Optional(Type.Integer({ description: "Number of seconds after which the probe times out.\nDefaults to 1 second. Minimum value is 1.\nMore info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes", format: "int32" })),
}, { description: "LivenessProbe defines the liveness probe for provider pods" });
export type Probe = Static<typeof Probe>;

export const PodAffinityTerm = Type.Object({
  labelSelector: Type.Optional(described(LabelSelector, "A label query over a set of resources, in this case pods.\nIf it's null, this PodAffinityTerm matches with no Pods.")),
  matchLabelKeys: Type.Optional(Type.Array(Type.String(), { description: "MatchLabelKeys is a set of pod label keys to select which pods will\nbe taken into consideration. The keys are used to lookup values from the\nincoming pod labels, those key-value labels are merged with `labelSelector` as `key in (value)`\nto select the group of existing pods which pods will be taken into consideration\nfor the incoming pod's pod (anti) affinity. Keys that don't exist in the incoming\npod labels will be ignored. The default value is empty.\nThe same key is forbidden to exist in both matchLabelKeys and labelSelector.\nAlso, matchLabelKeys cannot be set when labelSelector isn't set.\nThis is a beta field and requires enabling MatchLabelKeysInPodAffinity feature gate (enabled by default).", "x-kubernetes-list-type": "atomic" })),
  mismatchLabelKeys: Type.Optional(Type.Array(Type.String(), { description: "MismatchLabelKeys is a set of pod label keys to select which pods will\nbe taken into consideration. The keys are used to lookup values from the\nincoming pod labels, those key-value labels are merged with `labelSelector` as `key notin (value)`\nto select the group of existing pods which pods will be taken into consideration\nfor the incoming pod's pod (anti) affinity. Keys that don't exist in the incoming\npod labels will be ignored. The default value is empty.\nThe same key is forbidden to exist in both mismatchLabelKeys and labelSelector.\nAlso, mismatchLabelKeys cannot be set when labelSelector isn't set.\nThis is a beta field and requires enabling MatchLabelKeysInPodAffinity feature gate (enabled by default).", "x-kubernetes-list-type": "atomic" })),
  namespaceSelector: Type.Optional(described(LabelSelector, "A label query over the set of namespaces that the term applies to.\nThe term is applied to the union of the namespaces selected by this field\nand the ones listed in the namespaces field.\nnull selector and null or empty namespaces list means \"this pod's namespace\".\nAn empty selector ({}) matches all namespaces.")),
  namespaces: Type.Optional(Type.Array(Type.String(), { description: "namespaces specifies a static list of namespace names that the term applies to.\nThe term is applied to the union of the namespaces listed in this field\nand the ones selected by namespaceSelector.\nnull or empty namespaces list and null namespaceSelector means \"this pod's namespace\".", "x-kubernetes-list-type": "atomic" })),
  topologyKey: Type.String({ description: "This pod should be co-located (affinity) or not co-located (anti-affinity) with the pods matching\nthe labelSelector in the specified namespaces, where co-located is defined as running on a node\nwhose value of the label with key topologyKey matches that of any node on which any of the\nselected pods is running.\nEmpty topologyKey is not allowed." }),
}, { description: "Required. A pod affinity term, associated with the corresponding weight." });
export type PodAffinityTerm = Static<typeof PodAffinityTerm>;

export const WeightedPodAffinityTerm = Type.Object({
  podAffinityTerm: PodAffinityTerm,
  weight: Type.Integer({ description: "weight associated with matching the corresponding podAffinityTerm,\nin the range 1-100.", format: "int32" }),
}, { description: "The weights of all of the matched WeightedPodAffinityTerm fields are added per-node to find the most preferred node(s)" });
export type WeightedPodAffinityTerm = Static<typeof WeightedPodAffinityTerm>;

export const PodSecurityContext = Type.Object({
  allowPrivilegeEscalation: Type.Optional(Type.Boolean({ description: "AllowPrivilegeEscalation controls whether a process can gain more\nprivileges than its parent process. This bool directly controls if\nthe no_new_privs flag will be set on the container process.\nAllowPrivilegeEscalation is true always when the container is:\n1) run as Privileged\n2) has CAP_SYS_ADMIN\nNote that this field cannot be set when spec.os.name is windows." })),
  appArmorProfile: Type.Optional(Type.Object({
    localhostProfile: Type.Optional(Type.String({ description: "localhostProfile indicates a profile loaded on the node that should be used.\nThe profile must be preconfigured on the node to work.\nMust match the loaded name of the profile.\nMust be set if and only if type is \"Localhost\"." })),
    type: Type.String({ description: "type indicates which kind of AppArmor profile will be applied.\nValid options are:\n  Localhost - a profile pre-loaded on the node.\n  RuntimeDefault - the container runtime's default profile.\n  Unconfined - no AppArmor enforcement." }),
  }, { description: "appArmorProfile is the AppArmor options to use by this container. If set, this profile\noverrides the pod's appArmorProfile.\nNote that this field cannot be set when spec.os.name is windows." })),
  capabilities: Type.Optional(Type.Object({
    add: Type.Optional(Type.Array(Type.String({ description: "Capability represent POSIX capabilities type" }), { description: "Added capabilities", "x-kubernetes-list-type": "atomic" })),
    drop: Type.Optional(Type.Array(Type.String({ description: "Capability represent POSIX capabilities type" }), { description: "Removed capabilities", "x-kubernetes-list-type": "atomic" })),
  }, { description: "The capabilities to add/drop when running containers.\nDefaults to the default set of capabilities granted by the container runtime.\nNote that this field cannot be set when spec.os.name is windows." })),
  privileged: Type.Optional(Type.Boolean({ description: "Run container in privileged mode.\nProcesses in privileged containers are essentially equivalent to root on the host.\nDefaults to false.\nNote that this field cannot be set when spec.os.name is windows." })),
  procMount: Type.Optional(Type.String({ description: "procMount denotes the type of proc mount to use for the containers.\nThe default value is Default which uses the container runtime defaults for\nreadonly paths and masked paths.\nThis requires the ProcMountType feature flag to be enabled.\nNote that this field cannot be set when spec.os.name is windows." })),
  readOnlyRootFilesystem: Type.Optional(Type.Boolean({ description: "Whether this container has a read-only root filesystem.\nDefault is false.\nNote that this field cannot be set when spec.os.name is windows." })),
  runAsGroup: Type.Optional(Type.Integer({ description: "The GID to run the entrypoint of the container process.\nUses runtime default if unset.\nMay also be set in PodSecurityContext.  If set in both SecurityContext and\nPodSecurityContext, the value specified in SecurityContext takes precedence.\nNote that this field cannot be set when spec.os.name is windows.", format: "int64" })),
  runAsNonRoot: Type.Optional(Type.Boolean({ description: "Indicates that the container must run as a non-root user.\nIf true, the Kubelet will validate the image at runtime to ensure that it\ndoes not run as UID 0 (root) and fail to start the container if it does.\nIf unset or false, no such validation will be performed.\nMay also be set in PodSecurityContext.  If set in both SecurityContext and\nPodSecurityContext, the value specified in SecurityContext takes precedence." })),
  runAsUser: Type.Optional(Type.Integer({ description: "The UID to run the entrypoint of the container process.\nDefaults to user specified in image metadata if unspecified.\nMay also be set in PodSecurityContext.  If set in both SecurityContext and\nPodSecurityContext, the value specified in SecurityContext takes precedence.\nNote that this field cannot be set when spec.os.name is windows.", format: "int64" })),
  seLinuxOptions: Type.Optional(Type.Object({
    level: Type.Optional(Type.String({ description: "Level is SELinux level label that applies to the container." })),
    role: Type.Optional(Type.String({ description: "Role is a SELinux role label that applies to the container." })),
    type: Type.Optional(Type.String({ description: "Type is a SELinux type label that applies to the container." })),
    user: Type.Optional(Type.String({ description: "User is a SELinux user label that applies to the container." })),
  }, { description: "The SELinux context to be applied to the container.\nIf unspecified, the container runtime will allocate a random SELinux context for each\ncontainer.  May also be set in PodSecurityContext.  If set in both SecurityContext and\nPodSecurityContext, the value specified in SecurityContext takes precedence.\nNote that this field cannot be set when spec.os.name is windows." })),
  seccompProfile: Type.Optional(Type.Object({
    localhostProfile: Type.Optional(Type.String({ description: "localhostProfile indicates a profile defined in a file on the node should be used.\nThe profile must be preconfigured on the node to work.\nMust be a descending path, relative to the kubelet's configured seccomp profile location.\nMust be set if type is \"Localhost\". Must NOT be set for any other type." })),
    type: Type.String({ description: "type indicates which kind of seccomp profile will be applied.\nValid options are:\n\nLocalhost - a profile defined in a file on the node should be used.\nRuntimeDefault - the container runtime default profile should be used.\nUnconfined - no profile should be applied." }),
  }, { description: "The seccomp options to use by this container. If seccomp options are\nprovided at both the pod & container level, the container options\noverride the pod options.\nNote that this field cannot be set when spec.os.name is windows." })),
  windowsOptions: Type.Optional(Type.Object({
    gmsaCredentialSpec: Type.Optional(Type.String({ description: "GMSACredentialSpec is where the GMSA admission webhook\n(https://github.com/kubernetes-sigs/windows-gmsa) inlines the contents of the\nGMSA credential spec named by the GMSACredentialSpecName field." })),
    gmsaCredentialSpecName: Type.Optional(Type.String({ description: "GMSACredentialSpecName is the name of the GMSA credential spec to use." })),
    hostProcess: Type.Optional(Type.Boolean({ description: "HostProcess determines if a container should be run as a 'Host Process' container.\nAll of a Pod's containers must have the same effective HostProcess value\n(it is not allowed to have a mix of HostProcess containers and non-HostProcess containers).\nIn addition, if HostProcess is true then HostNetwork must also be set to true." })),
    runAsUserName: Type.Optional(Type.String({ description: "The UserName in Windows to run the entrypoint of the container process.\nDefaults to the user specified in image metadata if unspecified.\nMay also be set in PodSecurityContext. If set in both SecurityContext and\nPodSecurityContext, the value specified in SecurityContext takes precedence." })),
  }, { description: "The Windows specific settings applied to all containers.\nIf unspecified, the options from the PodSecurityContext will be used.\nIf set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence.\nNote that this field cannot be set when spec.os.name is linux." })),
}, { description: "SecurityContext defines security context for provider pods" });
export type PodSecurityContext = Static<typeof PodSecurityContext>;

/**
 * Labels and annotations of an object a template creates. Upstream declared template metadata
 * as an empty object, so the apiserver pruned the labels a selector must match; ours keeps them.
 */
export const EmbeddedObjectMeta = Type.Object({
  labels: Type.Optional(StringMap(Type.String(), { description: "Labels of the created object" })),
  annotations: Type.Optional(StringMap(Type.String(), { description: "Annotations of the created object" })),
}, {
  description: "ObjectMeta is metadata for objects created from this template",
  // Upstream accepted any key here (and pruned it); we keep accepting any key, and keep labels
  // and annotations, which must be string maps as everywhere in Kubernetes.
  "x-kubernetes-preserve-unknown-fields": true,
});
export type EmbeddedObjectMeta = Static<typeof EmbeddedObjectMeta>;

export const PersistentVolumeClaimTemplate = Type.Object({
  metadata: Type.Optional(EmbeddedObjectMeta),
  spec: Type.Object({
    accessModes: Type.Optional(Type.Array(Type.String(), { description: "accessModes contains the desired access modes the volume should have.\nMore info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1", "x-kubernetes-list-type": "atomic" })),
    dataSource: Type.Optional(Type.Object({
      apiGroup: Type.Optional(Type.String({ description: "APIGroup is the group for the resource being referenced.\nIf APIGroup is not specified, the specified Kind must be in the core API group.\nFor any other third-party types, APIGroup is required." })),
      kind: Type.String({ description: "Kind is the type of resource being referenced" }),
      name: Type.String({ description: "Name is the name of resource being referenced" }),
    }, { description: "dataSource field can be used to specify either:\n* An existing VolumeSnapshot object (snapshot.storage.k8s.io/VolumeSnapshot)\n* An existing PVC (PersistentVolumeClaim)\nIf the provisioner or an external controller can support the specified data source,\nit will create a new volume based on the contents of the specified data source.\nWhen the AnyVolumeDataSource feature gate is enabled, dataSource contents will be copied to dataSourceRef,\nand dataSourceRef contents will be copied to dataSource when dataSourceRef.namespace is not specified.\nIf the namespace is specified, then dataSourceRef will not be copied to dataSource.", "x-kubernetes-map-type": "atomic" })),
    dataSourceRef: Type.Optional(Type.Object({
      apiGroup: Type.Optional(Type.String({ description: "APIGroup is the group for the resource being referenced.\nIf APIGroup is not specified, the specified Kind must be in the core API group.\nFor any other third-party types, APIGroup is required." })),
      kind: Type.String({ description: "Kind is the type of resource being referenced" }),
      name: Type.String({ description: "Name is the name of resource being referenced" }),
      namespace: Type.Optional(Type.String({ description: "Namespace is the namespace of resource being referenced\nNote that when a namespace is specified, a gateway.networking.k8s.io/ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details.\n(Alpha) This field requires the CrossNamespaceVolumeDataSource feature gate to be enabled." })),
    }, { description: "dataSourceRef specifies the object from which to populate the volume with data, if a non-empty\nvolume is desired. This may be any object from a non-empty API group (non\ncore object) or a PersistentVolumeClaim object.\nWhen this field is specified, volume binding will only succeed if the type of\nthe specified object matches some installed volume populator or dynamic\nprovisioner.\nThis field will replace the functionality of the dataSource field and as such\nif both fields are non-empty, they must have the same value. For backwards\ncompatibility, when namespace isn't specified in dataSourceRef,\nboth fields (dataSource and dataSourceRef) will be set to the same\nvalue automatically if one of them is empty and the other is non-empty.\nWhen namespace is specified in dataSourceRef,\ndataSource isn't set to the same value and must be empty.\nThere are three important differences between dataSource and dataSourceRef:\n* While dataSource only allows two specific types of objects, dataSourceRef\n  allows any non-core object, as well as PersistentVolumeClaim objects.\n* While dataSource ignores disallowed values (dropping them), dataSourceRef\n  preserves all values, and generates an error if a disallowed value is\n  specified.\n* While dataSource only allows local objects, dataSourceRef allows objects\n  in any namespaces.\n(Beta) Using this field requires the AnyVolumeDataSource feature gate to be enabled.\n(Alpha) Using the namespace field of dataSourceRef requires the CrossNamespaceVolumeDataSource feature gate to be enabled." })),
    resources: Type.Optional(Type.Object({
      limits: Type.Optional(ResourceList),
      requests: Type.Optional(described(ResourceList, "Requests describes the minimum amount of compute resources required.\nIf Requests is omitted for a container, it defaults to Limits if that is explicitly specified,\notherwise to an implementation-defined value. Requests cannot exceed Limits.\nMore info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/")),
    }, { description: "resources represents the minimum resources the volume should have.\nIf RecoverVolumeExpansionFailure feature is enabled users are allowed to specify resource requirements\nthat are lower than previous value but must still be higher than capacity recorded in the\nstatus field of the claim.\nMore info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#resources" })),
    selector: Type.Optional(described(LabelSelector, "selector is a label query over volumes to consider for binding.")),
    storageClassName: Type.Optional(Type.String({ description: "storageClassName is the name of the StorageClass required by the claim.\nMore info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#class-1" })),
    volumeAttributesClassName: Type.Optional(Type.String({ description: "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.\nIf specified, the CSI driver will create or update the volume with the attributes defined\nin the corresponding VolumeAttributesClass. This has a different purpose than storageClassName,\nit can be changed after the claim is created. An empty string value means that no VolumeAttributesClass\nwill be applied to the claim but it's not allowed to reset this field to empty string once it is set.\nIf unspecified and the PersistentVolumeClaim is unbound, the default VolumeAttributesClass\nwill be set by the persistentvolume controller if it exists.\nIf the resource referred to by volumeAttributesClass does not exist, this PersistentVolumeClaim will be\nset to a Pending state, as reflected by the modifyVolumeStatus field, until such as a resource\nexists.\nMore info: https://kubernetes.io/docs/concepts/storage/volume-attributes-classes/\n(Beta) Using this field requires the VolumeAttributesClass feature gate to be enabled (off by default)." })),
    volumeMode: Type.Optional(Type.String({ description: "volumeMode defines what type of volume is required by the claim.\nValue of Filesystem is implied when not included in claim spec." })),
    volumeName: Type.Optional(Type.String({ description: "volumeName is the binding reference to the PersistentVolume backing this claim." })),
  }, { description: "Spec is the desired characteristics of the volume" }),
}, { description: "PersistentVolumeClaimTemplate describes a PVC template for VMSet VMs" });
export type PersistentVolumeClaimTemplate = Static<typeof PersistentVolumeClaimTemplate>;

export const Affinity = Type.Object({
  nodeAffinity: Type.Optional(Type.Object({
    preferredDuringSchedulingIgnoredDuringExecution: Type.Optional(Type.Array(Type.Object({
      preference: NodeSelectorTerm,
      weight: Type.Integer({ description: "Weight associated with matching the corresponding nodeSelectorTerm, in the range 1-100.", format: "int32" }),
    }, { description: "An empty preferred scheduling term matches all objects with implicit weight 0\n(i.e. it's a no-op). A null preferred scheduling term matches no objects (i.e. is also a no-op)." }), { description: "The scheduler will prefer to schedule pods to nodes that satisfy\nthe affinity expressions specified by this field, but it may choose\na node that violates one or more of the expressions. The node that is\nmost preferred is the one with the greatest sum of weights, i.e.\nfor each node that meets all of the scheduling requirements (resource\nrequest, requiredDuringScheduling affinity expressions, etc.),\ncompute a sum by iterating through the elements of this field and adding\n\"weight\" to the sum if the node matches the corresponding matchExpressions; the\nnode(s) with the highest sum are the most preferred.", "x-kubernetes-list-type": "atomic" })),
    requiredDuringSchedulingIgnoredDuringExecution: Type.Optional(Type.Object({
      nodeSelectorTerms: Type.Array(described(NodeSelectorTerm, "A null or empty node selector term matches no objects. The requirements of\nthem are ANDed.\nThe TopologySelectorTerm type implements a subset of the NodeSelectorTerm."), { description: "Required. A list of node selector terms. The terms are ORed.", "x-kubernetes-list-type": "atomic" }),
    }, { description: "If the affinity requirements specified by this field are not met at\nscheduling time, the pod will not be scheduled onto the node.\nIf the affinity requirements specified by this field cease to be met\nat some point during pod execution (e.g. due to an update), the system\nmay or may not try to eventually evict the pod from its node.", "x-kubernetes-map-type": "atomic" })),
  }, { description: "Describes node affinity scheduling rules for the pod." })),
  podAffinity: Type.Optional(Type.Object({
    preferredDuringSchedulingIgnoredDuringExecution: Type.Optional(Type.Array(WeightedPodAffinityTerm, { description: "The scheduler will prefer to schedule pods to nodes that satisfy\nthe affinity expressions specified by this field, but it may choose\na node that violates one or more of the expressions. The node that is\nmost preferred is the one with the greatest sum of weights, i.e.\nfor each node that meets all of the scheduling requirements (resource\nrequest, requiredDuringScheduling affinity expressions, etc.),\ncompute a sum by iterating through the elements of this field and adding\n\"weight\" to the sum if the node has pods which matches the corresponding podAffinityTerm; the\nnode(s) with the highest sum are the most preferred.", "x-kubernetes-list-type": "atomic" })),
    requiredDuringSchedulingIgnoredDuringExecution: Type.Optional(Type.Array(described(PodAffinityTerm, "Defines a set of pods (namely those matching the labelSelector\nrelative to the given namespace(s)) that this pod should be\nco-located (affinity) or not co-located (anti-affinity) with,\nwhere co-located is defined as running on a node whose value of\nthe label with key <topologyKey> matches that of any node on which\na pod of the set of pods is running"), { description: "If the affinity requirements specified by this field are not met at\nscheduling time, the pod will not be scheduled onto the node.\nIf the affinity requirements specified by this field cease to be met\nat some point during pod execution (e.g. due to a pod label update), the\nsystem may or may not try to eventually evict the pod from its node.\nWhen there are multiple elements, the lists of nodes corresponding to each\npodAffinityTerm are intersected, i.e. all terms must be satisfied.", "x-kubernetes-list-type": "atomic" })),
  }, { description: "Describes pod affinity scheduling rules (e.g. co-locate this pod in the same node, zone, etc. as some other pod(s))." })),
  podAntiAffinity: Type.Optional(Type.Object({
    preferredDuringSchedulingIgnoredDuringExecution: Type.Optional(Type.Array(WeightedPodAffinityTerm, { description: "The scheduler will prefer to schedule pods to nodes that satisfy\nthe anti-affinity expressions specified by this field, but it may choose\na node that violates one or more of the expressions. The node that is\nmost preferred is the one with the greatest sum of weights, i.e.\nfor each node that meets all of the scheduling requirements (resource\nrequest, requiredDuringScheduling anti-affinity expressions, etc.),\ncompute a sum by iterating through the elements of this field and adding\n\"weight\" to the sum if the node has pods which matches the corresponding podAffinityTerm; the\nnode(s) with the highest sum are the most preferred.", "x-kubernetes-list-type": "atomic" })),
    requiredDuringSchedulingIgnoredDuringExecution: Type.Optional(Type.Array(described(PodAffinityTerm, "Defines a set of pods (namely those matching the labelSelector\nrelative to the given namespace(s)) that this pod should be\nco-located (affinity) or not co-located (anti-affinity) with,\nwhere co-located is defined as running on a node whose value of\nthe label with key <topologyKey> matches that of any node on which\na pod of the set of pods is running"), { description: "If the anti-affinity requirements specified by this field are not met at\nscheduling time, the pod will not be scheduled onto the node.\nIf the anti-affinity requirements specified by this field cease to be met\nat some point during pod execution (e.g. due to a pod label update), the\nsystem may or may not try to eventually evict the pod from its node.\nWhen there are multiple elements, the lists of nodes corresponding to each\npodAffinityTerm are intersected, i.e. all terms must be satisfied.", "x-kubernetes-list-type": "atomic" })),
  }, { description: "Describes pod anti-affinity scheduling rules (e.g. avoid putting this pod in the same node, zone, etc. as some other pod(s))." })),
}, { description: "Affinity defines scheduling constraints" });
export type Affinity = Static<typeof Affinity>;

