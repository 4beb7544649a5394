/**
 * The Validating and Mutating WebhookConfigurations that send our ten kinds to the server, for
 * any way of reaching it: a loopback URL (local stack, tests) or a Service (clusters,
 * manifests/webhook). Pure data; applying them is the caller's business.
 */
import { GROUP, VERSION } from '../api/crd.ts';
import type { Operation } from './framework/types.ts';
import { KIND_ROUTES, type AdmissionMode, type KindRoute } from './server/routes.ts';

export type ClientConfig =
  | { url: string; caBundle?: string }
  | { service: { namespace: string; name: string; path: string; port?: number }; caBundle?: string };

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export interface RegistrationOptions {
  /** Name of both configurations (one is validating, the other mutating: distinct kinds). */
  name: string;
  /** How the apiserver reaches `path` on the server. */
  clientConfig: (path: string) => ClientConfig;
  /** Limit the webhooks to some namespaces (tests register for their own namespaces only). */
  namespaceSelector?: LabelSelector;
  /** Kinds to register; all ten when omitted. */
  kinds?: readonly string[];
  /** Extra metadata.annotations (cert-manager's inject-ca-from, for instance). */
  annotations?: Record<string, string>;
}

/** The apiserver waits at most this long; the server answers in microseconds. */
export const WEBHOOK_TIMEOUT_SECONDS = 5;
export const DEFAULT_CONFIGURATION_NAME = 'virtrigaud';

/** `vvirtualmachine.infra.virtrigaud.io` / `mvirtualmachine.infra.virtrigaud.io` (kubebuilder's naming). */
export function webhookName(mode: AdmissionMode, lowerKind: string): string {
  return `${mode === 'validate' ? 'v' : 'm'}${lowerKind}.${GROUP}`;
}

function webhook(route: KindRoute, opts: RegistrationOptions): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    name: webhookName(route.mode, route.lower),
    admissionReviewVersions: ['v1'],
    clientConfig: opts.clientConfig(route.path),
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    sideEffects: 'None',
    timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
    rules: [{
      apiGroups: [GROUP],
      apiVersions: [VERSION],
      operations: [...route.operations] satisfies Operation[],
      resources: [route.plural],
      scope: 'Namespaced',
    }],
  };
  if (opts.namespaceSelector) entry.namespaceSelector = opts.namespaceSelector;
  // Defaults must not trigger a second round; our mutators read only what the user wrote.
  if (route.mode === 'mutate') entry.reinvocationPolicy = 'Never';
  return entry;
}

function configuration(kind: string, mode: AdmissionMode, opts: RegistrationOptions): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name: opts.name, labels: { 'app.kubernetes.io/part-of': 'virtrigaud' } };
  if (opts.annotations) metadata.annotations = opts.annotations;
  const routes = KIND_ROUTES.filter((r) => r.mode === mode && (!opts.kinds || opts.kinds.includes(r.kind)));
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata, webhooks: routes.map((r) => webhook(r, opts)) };
}

export function webhookConfigurations(opts: RegistrationOptions): { validating: Record<string, unknown>; mutating: Record<string, unknown> } {
  return {
    validating: configuration('ValidatingWebhookConfiguration', 'validate', opts),
    mutating: configuration('MutatingWebhookConfiguration', 'mutate', opts),
  };
}

/** The in-cluster Service the manifests run the webhook behind. */
export const WEBHOOK_SERVICE = { namespace: 'virtrigaud-system', name: 'virtrigaud-webhook', port: 443 } as const;

/** The configurations of manifests/webhook: reached through WEBHOOK_SERVICE, caBundle injected by cert-manager or by hand. */
export function clusterWebhookConfigurations(): { validating: Record<string, unknown>; mutating: Record<string, unknown> } {
  return webhookConfigurations({
    name: DEFAULT_CONFIGURATION_NAME,
    clientConfig: (path) => ({ service: { ...WEBHOOK_SERVICE, path } }),
  });
}
