/** The `--help` texts: every subcommand's flags and the environment it reads. */

export const PROGRAM = 'virtrigaud';

export const MAIN_HELP = `Usage: ${PROGRAM} <command> [options]

Declarative VMs on vSphere, libvirt/KVM and Proxmox VE from Kubernetes. One image, one command.

Processes (what the cluster runs):
  webhook                  the admission webhook (validating and mutating)
  dispatcher               the dispatcher: VMs → bus commands → status; the Provider controller
  agent <type>             a hypervisor agent: vsphere | libvirt | proxmox | mock

Local stack (a real control plane, NATS, webhook, dispatcher and mock agents on this machine):
  up                       bring it up and show it working
  down                     stop it
  status                   what runs, and the Providers and VMs of the cluster

For users:
  vm list                  VirtualMachines with phase, readiness, provider and IPs
  vm console <name>        print a VM's console URL

Installation helpers (run as Jobs by the manifests):
  nats-bootstrap           make the bus's NATS operator, accounts and signing key
  webhook-certs            a self-signed serving certificate for the webhook (without cert-manager)

Run '${PROGRAM} <command> --help' for a command's flags and environment variables.
Exit codes: 0 done, 1 failed, 2 wrong usage.
`;

const KUBE_ENV = `  KUBECONFIG               kubeconfig file (default: in-cluster, then ~/.kube/config)`;

export const HELP: Record<string, string> = {
  webhook: `Usage: ${PROGRAM} webhook

Runs the admission webhook (HTTPS) with the rules of webhook/kinds. Stops gracefully on SIGTERM.

Environment:
  WEBHOOK_HOST             address to listen on (default 0.0.0.0)
  WEBHOOK_PORT             HTTPS port (default 9443)
  WEBHOOK_TLS_CERT_FILE    serving certificate (default /tmp/k8s-webhook-server/serving-certs/tls.crt), reloaded on change
  WEBHOOK_TLS_KEY_FILE     its key (default …/tls.key)
  WEBHOOK_TLS_POLL_MS      how often the certificate files are re-read (default 10000)
  WEBHOOK_MAX_BODY_BYTES   largest AdmissionReview accepted (default 3 MiB)
  WEBHOOK_SHUTDOWN_GRACE_MS how long requests in flight may finish on stop (default 5000)
  WEBHOOK_LOG_LEVEL        debug | info | warn | error (default info)
${KUBE_ENV}
`,
  dispatcher: `Usage: ${PROGRAM} dispatcher

Runs the dispatcher: watches the VirtRigaud kinds, publishes commands on NATS JetStream, writes
status; the Lease holder also runs the Provider controller (agent Deployments, Services, bus
credentials, Provider status). Stops on SIGTERM, releasing the Lease.

Environment:
  NATS_URL                 the bus (required)
  NATS_CREDS_FILE          the dispatcher's NATS credentials (.creds) on a secured bus
  JETSTREAM_REPLICAS       stream replicas: 1, 3 or 5 (default 1)
  WATCH_NAMESPACE          one namespace only (default all)
  DISPATCHER_ID, POD_NAME  identity in the Lease (default hostname-pid)
  LEASE_NAMESPACE, POD_NAMESPACE, LEASE_NAME   the leader Lease (default virtrigaud-dispatcher)
  LEASE_DURATION_SECONDS, LEASE_RENEW_SECONDS, LEASE_RENEW_DEADLINE_SECONDS, LEASE_RETRY_SECONDS
  WORKERS, EVENT_CONCURRENCY, RETRY_BASE_MS, RETRY_MAX_MS, RETRY_QPS, RETRY_BURST
  REDISPATCH_AFTER_EXHAUSTED_SECONDS
  STATUS_COALESCE_MS       how long a "command published" status waits to be written with the agent's answer (default 500)
  STATUS_COALESCE_MAX_MS   how long that wait may grow while agents answer slowly, e.g. during a burst (default 5000)
  METRICS_PORT             /metrics and /healthz (default 9090; 0 off)
  LOG_LEVEL                debug | info | warn | error | silent (default info)
${KUBE_ENV}
Provider controller:
  PROVIDER_MANAGE_AGENTS   false: agents run outside the cluster; only Provider status is written (default true)
  PROVIDER_AGENT_IMAGE     image the agents run (default: each Provider's spec.runtime.image)
  PROVIDER_AGENT_NATS_URL  the bus as agent pods reach it (default NATS_URL)
  NATS_ACCOUNT             bus account public key (A…); with the next, per-provider credentials
  NATS_ACCOUNT_SIGNING_KEY_FILE   the account signing-key seed (SA…) that mints them
  PROVIDER_NATS_CREDS_VALIDITY_HOURS   lifetime of minted credentials (default 720)
  PROVIDER_HEARTBEAT_TIMEOUT_S   an agent silent this long stops counting (default 20)
  PROVIDER_AGENT_AUTOSCALER      none | keda (default none)
  PROVIDER_AGENT_MAX_REPLICAS, PROVIDER_AGENT_LAG_THRESHOLD, NATS_MONITORING_ENDPOINT   KEDA settings
`,
  agent: `Usage: ${PROGRAM} agent <vsphere|libvirt|proxmox|mock>

Runs one replica of a Provider's agent: pulls that provider's commands from JetStream, drives the
hypervisor, reports status events and heartbeats. The dispatcher's Provider controller sets all of
this in the agent Deployment it creates.

Environment:
  NATS_URL                 bus URL(s), comma-separated (default nats://127.0.0.1:4222)
  NATS_CREDS_FILE          this provider's NATS credentials (.creds), re-read on every reconnect
  NATS_INBOX_PREFIX        reply subject prefix its credentials allow (_INBOX_<ns>_<provider>)
  AGENT_PROVIDER_NAMESPACE, AGENT_PROVIDER_NAME   the Provider served (required)
  AGENT_PROVIDER_TYPE      must match <type> when set
  AGENT_PROVIDER_ENDPOINT  the Provider's spec.endpoint
  AGENT_CREDENTIALS_DIR    the credential Secret's keys as files (default /etc/virtrigaud/credentials)
  AGENT_INSECURE_SKIP_VERIFY   true: no TLS verification of the hypervisor (default false)
  AGENT_ID                 lease holder name (default hostname-pid)
  AGENT_CONCURRENCY        commands at once (default 8)
  AGENT_GRPC_PORT          also serve provider.v1 gRPC on this port (default off)
  AGENT_METRICS_PORT       /metrics, /healthz, /readyz (default 9090; off disables)
  AGENT_METRICS_HOST       (default 0.0.0.0)
  AGENT_LEASE_TTL_S, AGENT_HEARTBEAT_INTERVAL_S, AGENT_SHUTDOWN_GRACE_S
  AGENT_LOG_LEVEL          debug | info | warn | error (default info)
  MOCK_DELAY_MS, MOCK_DELAY_<OP>_MS, MOCK_FAULTS, MOCK_DETECT_OVERLAPS   the mock hypervisor only
`,
  up: `Usage: ${PROGRAM} up

Starts the local stack (etcd, kube-apiserver, kube-controller-manager, the CRDs, the webhook,
nats-server, the dispatcher and 3 mock agents), applies a demo VM and waits for it to be Ready.
State in .local/stack; the servers keep running. Needs the pinned binaries: on a fresh clone run
'bash scripts/up.sh', which installs them first.
`,
  down: `Usage: ${PROGRAM} down

Stops what '${PROGRAM} up' started and removes its state.
`,
  status: `Usage: ${PROGRAM} status [--kubeconfig <file>]

Shows whether the local stack runs (and which of its processes are alive), then the cluster's
Providers (type, Ready, healthy, agents, connected VMs) and VMs by phase.

Options:
  --kubeconfig <file>      the cluster (default: KUBECONFIG, else the local stack's, else ~/.kube/config)
${KUBE_ENV}
`,
  vm: `Usage: ${PROGRAM} vm list [-n <namespace> | -A] [--kubeconfig <file>]
       ${PROGRAM} vm console <name> [-n <namespace>] [--kubeconfig <file>]

list      VirtualMachines: namespace, name, provider, phase, Ready, IPs
console   prints status.consoleURL of one VM (exit 1 when it has none yet)

Options:
  -n, --namespace <ns>     namespace (default: the kubeconfig context's, else default)
  -A, --all-namespaces     every namespace (list)
  --kubeconfig <file>      the cluster (default: KUBECONFIG, else the local stack's, else ~/.kube/config)
${KUBE_ENV}
`,
  'nats-bootstrap': `Usage: ${PROGRAM} nats-bootstrap [--namespace <ns>] [--kubeconfig <file>]
       ${PROGRAM} nats-bootstrap --print

Makes the bus's decentralized-JWT trust once per installation: an operator, the system account,
the VIRTRIGAUD account (JetStream on) with a signing key, and the dispatcher's credentials. Stores
them in Secrets virtrigaud-nats-auth (auth.conf, for nats-server) and virtrigaud-nats-account
(account, signing-key.nk, dispatcher.creds, system.creds, auth.conf). Does nothing when they
exist; restores virtrigaud-nats-auth from virtrigaud-nats-account when only that one is left.

Options:
  --namespace <ns>         where the Secrets go (default virtrigaud-system)
  --print                  print a new set to stdout instead (for a NATS you run yourself); it holds secrets
  --kubeconfig <file>      (default: in-cluster, KUBECONFIG, ~/.kube/config)
`,
  'webhook-certs': `Usage: ${PROGRAM} webhook-certs [--namespace <ns>] [options]

Without cert-manager: makes a self-signed CA and the webhook's serving certificate (EC P-256, for
<service>.<ns>.svc and <service>.<ns>.svc.cluster.local), stores them in a kubernetes.io/tls Secret
(tls.crt, tls.key, ca.crt), and writes the CA into the caBundle of every webhook of both webhook
configurations. Keeps a certificate that is valid for 30 more days; needs the openssl command.

Options:
  --namespace <ns>         the webhook's namespace (default virtrigaud-system)
  --service <name>         its Service (default virtrigaud-webhook)
  --secret <name>          the TLS Secret (default virtrigaud-webhook-tls)
  --webhook-name <name>    the Validating/MutatingWebhookConfiguration name (default virtrigaud)
  --days <n>               certificate lifetime (default 365)
  --kubeconfig <file>      (default: in-cluster, KUBECONFIG, ~/.kube/config)
`,
};
