/** The admission server: HTTPS app, review decoding, response building, JSON patches, metrics. */
export { admit, mutateRequest, validateRequest, SPEC_REQUIRED_RULE, type AdmitContext, type AdmitOutcome, type AdmitResult } from './admit.ts';
export { createAdmissionApp, createAdmissionListener, DEFAULT_MAX_BODY_BYTES, type AdmissionAppOptions } from './app.ts';
export { BadReviewError, RuleCrashError, TlsLoadError, type BadReviewCode } from './errors.ts';
export { applyJsonPatch, cloneJson, diffJson, escapePointerToken, isPlainObject, type JsonPatchOperation } from './json-patch.ts';
export { createWebhookMetrics, LATENCY_BUCKETS, type RequestOutcome, type WebhookMetrics, type WebhookMetricsOptions } from './metrics.ts';
export {
  allow, allowWithPatch, deny, denyInvalid, describeFieldError, invalidMessage, reviewBody, statusBody,
  type AdmissionResponse, type ResponseStatus, type StatusCause,
} from './response.ts';
export { decodeReview, REVIEW_API_VERSION, REVIEW_KIND, type AdmissionRequest, type JsonObject } from './review.ts';
export { admissionPath, DELETE_VALIDATED_KINDS, KIND_ROUTES, routeForPath, type AdmissionMode, type KindName, type KindRoute } from './routes.ts';
export type { MutatorTable, ObjectOfKind, RuleSet, ValidatorTable } from './rules.ts';
export { startWebhookServer, type WebhookServer, type WebhookServerOptions } from './server.ts';
export { loadTlsPair, watchTlsFiles, type TlsFiles, type TlsPair, type TlsWatcher, type TlsWatchOptions } from './tls.ts';
