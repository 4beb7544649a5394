/**
 * Decodes an admission.k8s.io/v1 AdmissionReview body into the request the rules judge, or fails
 * with a BadReviewError that carries the request's uid whenever one could be read (so the caller
 * can still answer with a well-formed review).
 */
import { GROUP, VERSION } from '../../api/crd.ts';
import type { Operation } from '../framework/types.ts';
import { BadReviewError } from './errors.ts';
import { isPlainObject } from './json-patch.ts';
import type { KindRoute } from './routes.ts';

export const REVIEW_API_VERSION = 'admission.k8s.io/v1';
export const REVIEW_KIND = 'AdmissionReview';

const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const MAX_ECHOED = 80;

export type JsonObject = Record<string, unknown>;

export interface AdmissionRequest {
  uid: string;
  operation: Operation;
  /** Name from the request, else from the object (empty with generateName on CREATE). */
  name: string;
  namespace: string;
  /** The object admitted: on DELETE the stored one (oldObject); null on CONNECT. */
  object: JsonObject | null;
  /** The stored object on UPDATE and DELETE. */
  oldObject: JsonObject | null;
  dryRun: boolean;
}

/** A value quoted for an error message, cut short so a huge value cannot flood the reply. */
function show(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'nothing' : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_ECHOED ? `${text.slice(0, MAX_ECHOED)}…` : text;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Parses and checks the review for `route`. Order matters: everything that can be judged without
 * a uid comes first; every later failure carries the uid.
 */
export function decodeReview(body: string, route: KindRoute): AdmissionRequest {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch (err) {
    throw new BadReviewError('malformed-json', `request body is not valid JSON: ${(err as Error).message}`, undefined, 400, { cause: err });
  }
  if (!isPlainObject(review)) {
    throw new BadReviewError('not-a-review', `expected an ${REVIEW_KIND} object, got ${show(review)}`);
  }
  const request = review.request;
  if (!isPlainObject(request)) {
    throw new BadReviewError('missing-request', `${REVIEW_KIND} has no request object (got request: ${show(request)})`);
  }
  const uid = str(request.uid);
  if (!uid) throw new BadReviewError('missing-uid', `${REVIEW_KIND} request has no uid (got uid: ${show(request.uid)})`);

  if (review.apiVersion !== REVIEW_API_VERSION || review.kind !== REVIEW_KIND) {
    throw new BadReviewError('wrong-review-version',
      `expected apiVersion ${REVIEW_API_VERSION} kind ${REVIEW_KIND}, got apiVersion ${show(review.apiVersion)} kind ${show(review.kind)}`, uid);
  }
  const operation = request.operation as Operation;
  if (!OPERATIONS.includes(operation)) {
    throw new BadReviewError('unknown-operation', `expected operation ${OPERATIONS.join(', ')}, got ${show(request.operation)}`, uid);
  }
  const want = `${GROUP}/${VERSION} ${route.kind}`;
  const kind = isPlainObject(request.kind) ? request.kind : {};
  if (kind.group !== GROUP || kind.version !== VERSION || kind.kind !== route.kind) {
    throw new BadReviewError('wrong-kind-for-path',
      `${route.path} admits ${want}, got kind ${show(request.kind)}`, uid);
  }
  const resource = request.resource;
  if (resource !== undefined && (!isPlainObject(resource) || resource.resource !== route.plural)) {
    throw new BadReviewError('wrong-kind-for-path',
      `${route.path} admits the resource ${route.plural}, got resource ${show(resource)}`, uid);
  }

  const rawObject = request.object ?? null;
  const rawOld = request.oldObject ?? null;
  const subject = operation === 'DELETE' ? rawOld : rawObject;
  const label = operation === 'DELETE' ? 'oldObject' : 'object';
  if (operation !== 'CONNECT') {
    if (!isPlainObject(subject)) {
      throw new BadReviewError('object-not-a-map', `request.${label} must be a ${route.kind} object (a map), got ${show(subject)}`, uid);
    }
    if (!isPlainObject(subject.metadata)) {
      throw new BadReviewError('object-not-a-map', `request.${label}.metadata must be a map, got ${show(subject.metadata)}`, uid);
    }
    if (subject.kind !== undefined && subject.kind !== route.kind) {
      throw new BadReviewError('wrong-kind-for-path', `${route.path} admits ${want}, got request.${label}.kind ${show(subject.kind)}`, uid);
    }
  }
  if (operation === 'UPDATE' && !isPlainObject(rawOld)) {
    throw new BadReviewError('object-not-a-map', `request.oldObject must be the stored ${route.kind} on UPDATE, got ${show(rawOld)}`, uid);
  }
  const meta = isPlainObject(subject) && isPlainObject(subject.metadata) ? subject.metadata : {};
  return {
    uid,
    operation,
    name: str(request.name) || str(meta.name) || str(meta.generateName) || '',
    namespace: str(request.namespace) ?? str(meta.namespace) ?? '',
    object: isPlainObject(subject) ? subject : null,
    oldObject: isPlainObject(rawOld) ? rawOld : null,
    dryRun: request.dryRun === true,
  };
}
