/**
 * The one place AdmissionReview replies are built: allowed (with warnings and an optional JSON
 * patch) or denied, field errors becoming a 422 Invalid denial worded like the apiserver's own
 * (`VirtualMachine "web" is invalid: spec.disks[1].name: Duplicate value: …`).
 */
import { GROUP } from '../../api/crd.ts';
import type { FieldError, FieldErrorType } from '../framework/types.ts';
import type { JsonPatchOperation } from './json-patch.ts';
import { REVIEW_API_VERSION, REVIEW_KIND } from './review.ts';

export interface StatusCause {
  field: string;
  reason: FieldErrorType;
  message: string;
}

/** metav1.Status as an admission response carries it. */
export interface ResponseStatus {
  status: 'Failure';
  code: number;
  reason: string;
  message: string;
  details?: { name: string; group: string; kind: string; causes: StatusCause[] };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: ResponseStatus;
  warnings?: string[];
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch. */
  patch?: string;
}

/** How the apiserver words each field error type (k8s.io/apimachinery field.ErrorType.String()). */
const TYPE_LABEL: Record<FieldErrorType, string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotSupported: 'Unsupported value',
};

export function describeFieldError(e: FieldError): string {
  return `${e.field}: ${TYPE_LABEL[e.type] ?? e.type}: ${e.message}`;
}

/** `Kind "name" is invalid: cause` for one error, `…: [cause1, cause2]` for several, as the apiserver. */
export function invalidMessage(kind: string, name: string, errors: readonly FieldError[]): string {
  const causes = errors.map(describeFieldError);
  const list = causes.length === 1 ? causes[0] : `[${causes.join(', ')}]`;
  return `${kind} ${JSON.stringify(name)} is invalid: ${list}`;
}

function withWarnings(response: AdmissionResponse, warnings: readonly string[]): AdmissionResponse {
  if (warnings.length) response.warnings = [...warnings];
  return response;
}

export function allow(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: true }, warnings);
}

/** Allowed with the patch that turns the original object into the mutated one (none when empty). */
export function allowWithPatch(uid: string, patch: readonly JsonPatchOperation[], warnings: readonly string[] = []): AdmissionResponse {
  const response = allow(uid, warnings);
  if (patch.length) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  return response;
}

export function deny(uid: string, code: number, reason: string, message: string, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: false, status: { status: 'Failure', code, reason, message } }, warnings);
}

/** The denial for field errors: 422 Invalid, every cause in the message and in details.causes. */
export function denyInvalid(
  uid: string,
  target: { kind: string; name: string },
  errors: readonly FieldError[],
  warnings: readonly string[] = [],
): AdmissionResponse {
  const response = deny(uid, 422, 'Invalid', invalidMessage(target.kind, target.name, errors), warnings);
  response.status!.details = {
    name: target.name,
    group: GROUP,
    kind: target.kind,
    causes: errors.map((e) => ({ field: e.field, reason: e.type, message: `${TYPE_LABEL[e.type] ?? e.type}: ${e.message}` })),
  };
  return response;
}

/** The JSON body of an AdmissionReview reply. */
export function reviewBody(response: AdmissionResponse): string {
  return JSON.stringify({ apiVersion: REVIEW_API_VERSION, kind: REVIEW_KIND, response });
}

/** A metav1.Status body for replies that cannot be an AdmissionReview (no uid, unknown path). */
export function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason, message });
}
