/**
 * Judges one decoded admission request with the injected rules: validation turns field errors
 * into a denial, mutation diffs a mutated deep copy into a JSON patch. Pure and synchronous; a
 * rule that throws becomes an internal-error denial, never a crashed server.
 */
import type { AnyVirtRigaudObject } from '../../api/objects.ts';
import type { FieldError, Lookup, Mutator, ValidationResult, Validator } from '../framework/types.ts';
import { RuleCrashError } from './errors.ts';
import { cloneJson, diffJson, isPlainObject } from './json-patch.ts';
import { allow, allowWithPatch, deny, denyInvalid, type AdmissionResponse } from './response.ts';
import type { AdmissionRequest } from './review.ts';
import type { KindRoute } from './routes.ts';
import type { RuleSet } from './rules.ts';

export type AdmitOutcome = 'allowed' | 'patched' | 'denied' | 'error';

export interface AdmitResult {
  response: AdmissionResponse;
  outcome: AdmitOutcome;
  /** The rule of each field error of a denial (for the denials-by-rule metric). */
  deniedBy: string[];
  /** Set when a rule threw. */
  crash?: RuleCrashError;
}

export interface AdmitContext {
  rules: RuleSet;
  lookup: Lookup;
}

export const SPEC_REQUIRED_RULE = 'spec-required';

function specRequired(kind: string): FieldError {
  return { field: 'spec', type: 'FieldValueRequired', message: `every ${kind} needs a spec (a map)`, rule: SPEC_REQUIRED_RULE };
}

function denied(request: AdmissionRequest, route: KindRoute, errors: FieldError[], warnings: string[]): AdmitResult {
  return {
    response: denyInvalid(request.uid, { kind: route.kind, name: request.name }, errors, warnings),
    outcome: 'denied',
    deniedBy: errors.map((e) => e.rule),
  };
}

function crashed(request: AdmissionRequest, route: KindRoute, cause: unknown): AdmitResult {
  const crash = new RuleCrashError(route.kind, route.mode, { cause });
  return { response: deny(request.uid, 500, 'InternalError', crash.message), outcome: 'error', deniedBy: [], crash };
}

function isValidationResult(value: unknown): value is ValidationResult {
  return isPlainObject(value) && Array.isArray(value.errors) && Array.isArray(value.warnings);
}

export function validateRequest(route: KindRoute, request: AdmissionRequest, ctx: AdmitContext): AdmitResult {
  const { object, operation } = request;
  if (operation === 'CONNECT' || !object) return { response: allow(request.uid), outcome: 'allowed', deniedBy: [] };
  if (!isPlainObject(object.spec)) {
    // A broken object can always be deleted; it can never be created or updated.
    if (operation === 'DELETE') return { response: allow(request.uid), outcome: 'allowed', deniedBy: [] };
    return denied(request, route, [specRequired(route.kind)], []);
  }
  const validator = ctx.rules.validators[route.kind] as Validator<AnyVirtRigaudObject> | undefined;
  if (!validator) return { response: allow(request.uid), outcome: 'allowed', deniedBy: [] };
  let result: unknown;
  try {
    result = validator({
      operation,
      object: object as unknown as AnyVirtRigaudObject,
      ...(request.oldObject ? { oldObject: request.oldObject as unknown as AnyVirtRigaudObject } : {}),
      lookup: ctx.lookup,
    });
  } catch (err) {
    return crashed(request, route, err);
  }
  if (!isValidationResult(result)) return crashed(request, route, new TypeError('validator returned no {errors, warnings}'));
  if (result.errors.length) return denied(request, route, result.errors, result.warnings);
  return { response: allow(request.uid, result.warnings), outcome: 'allowed', deniedBy: [] };
}

export function mutateRequest(route: KindRoute, request: AdmissionRequest, ctx: AdmitContext): AdmitResult {
  const { object, operation } = request;
  const mutators = (ctx.rules.mutators[route.kind] ?? []) as readonly Mutator<AnyVirtRigaudObject>[];
  if ((operation !== 'CREATE' && operation !== 'UPDATE') || !object || !mutators.length) {
    return { response: allow(request.uid), outcome: 'allowed', deniedBy: [] };
  }
  if (!isPlainObject(object.spec)) return denied(request, route, [specRequired(route.kind)], []);
  const copy = cloneJson(object) as unknown as AnyVirtRigaudObject;
  const oldObject = request.oldObject ? (request.oldObject as unknown as AnyVirtRigaudObject) : undefined;
  try {
    for (const mutate of mutators) mutate({ operation, object: copy, ...(oldObject ? { oldObject } : {}), lookup: ctx.lookup });
    // The diff, not the mutators' `changed` flags, decides: a step that reports a change it did not make adds nothing.
    // (Inside the try: a mutator that left a cycle or a BigInt behind fails here.)
    const patch = diffJson(object, copy);
    return { response: allowWithPatch(request.uid, patch), outcome: patch.length ? 'patched' : 'allowed', deniedBy: [] };
  } catch (err) {
    return crashed(request, route, err);
  }
}

export function admit(route: KindRoute, request: AdmissionRequest, ctx: AdmitContext): AdmitResult {
  return route.mode === 'validate' ? validateRequest(route, request, ctx) : mutateRequest(route, request, ctx);
}
