/** Building and combining ValidationResults. */
import type { AnyVirtRigaudObject } from '../../../api/objects.ts';
import { valueAtPath } from '../../framework/field-path.ts';
import type { FieldError, ValidationResult, Validator } from '../../framework/types.ts';

/** A fresh result with nothing to say. */
export function allowed(): ValidationResult {
  return { errors: [], warnings: [] };
}

/** A result of these errors and warnings. */
export function result(parts: { errors?: FieldError[]; warnings?: string[] }): ValidationResult {
  return { errors: parts.errors ?? [], warnings: parts.warnings ?? [] };
}

/** All errors and warnings of several results, in order, each warning once. */
export function mergeResults(results: readonly ValidationResult[]): ValidationResult {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  for (const r of results) {
    errors.push(...r.errors);
    for (const w of r.warnings) if (!warnings.includes(w)) warnings.push(w);
  }
  return { errors, warnings };
}

/** One validator running several concerns in order and reporting all of their findings. */
export function combineValidators<T extends AnyVirtRigaudObject>(...concerns: readonly Validator<T>[]): Validator<T> {
  return (input) => mergeResults(concerns.map((concern) => concern(input)));
}

/** Structural equality of JSON values. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Ratcheting, as Kubernetes does for CRD validation: on UPDATE, an error is dropped when the
 * stored object had an error of the same rule and type at the same field and the value at that
 * field did not change. So an object that fell out of line because something else changed (a
 * policy narrowed, a class edited, a neighbour took its host) can still be updated — its
 * finalizer removed, a label added — while any value the update changes is judged in full.
 */
export function withoutPreexisting(p: { current: ValidationResult; before: ValidationResult; object: unknown; stored: unknown }): ValidationResult {
  const key = (e: FieldError) => `${e.rule}\u0000${e.field}\u0000${e.type}`;
  const old = new Set(p.before.errors.map(key));
  const kept = p.current.errors.filter((e) => !(old.has(key(e)) && jsonEqual(valueAtPath(p.object, e.field), valueAtPath(p.stored, e.field))));
  return { errors: kept, warnings: p.current.warnings };
}

/**
 * A validator with ratcheting (see withoutPreexisting): on UPDATE it also judges the stored
 * object (as an UPDATE with no older version, so rules comparing versions stay quiet).
 */
export function ratcheted<T extends AnyVirtRigaudObject>(validator: Validator<T>): Validator<T> {
  return (input) => {
    const current = validator(input);
    if (input.operation !== 'UPDATE' || !input.oldObject || current.errors.length === 0) return current;
    const { oldObject: stored, ...rest } = input;
    return withoutPreexisting({ current, before: validator({ ...rest, object: stored }), object: input.object, stored });
  };
}

/** A validator that lets an object being deleted through untouched, so its finalizers can come off. */
export function skipWhileDeleting<T extends AnyVirtRigaudObject>(validator: Validator<T>): Validator<T> {
  return (input) => (input.object.metadata.deletionTimestamp !== undefined && input.operation === 'UPDATE' ? allowed() : validator(input));
}
