/**
 * Field paths as Kubernetes prints them, built like apimachinery's field.NewPath:
 *
 *   newPath('spec', 'disks').index(1).child('sizeGiB')  → "spec.disks[1].sizeGiB"
 *   newPath('metadata', 'labels').key('virtrigaud.io/class') → "metadata.labels[virtrigaud.io/class]"
 *
 * and the FieldError values rules return, one maker per Kubernetes error type.
 */
import type { FieldError, FieldErrorType } from './types.ts';

/** An immutable path into an object; every step returns a new path. */
export class FieldPath {
  private constructor(private readonly rendered: string) {}

  /** A path starting at a top-level field (`spec`, `metadata`), with optional further children. */
  static root(name: string, ...moreNames: string[]): FieldPath {
    return new FieldPath(name).child(...moreNames);
  }

  /** The path one or more fields further down: `.child('a', 'b')` appends `.a.b`. */
  child(...names: string[]): FieldPath {
    let rendered = this.rendered;
    for (const name of names) rendered = `${rendered}.${name}`;
    return new FieldPath(rendered);
  }

  /** The path to a list element: `[i]`. */
  index(i: number): FieldPath {
    return new FieldPath(`${this.rendered}[${i}]`);
  }

  /** The path to a map entry: `[key]`, as Kubernetes prints map keys (unquoted). */
  key(key: string): FieldPath {
    return new FieldPath(`${this.rendered}[${key}]`);
  }

  toString(): string {
    return this.rendered;
  }
}

const SEGMENT = /\.?([^.[\]]+)|\[([^\]]*)\]/g;

/**
 * The value a rendered path (`spec.disks[1].sizeGiB`, `metadata.labels[a.b/c]`) points at in an
 * object, or undefined when the path leads nowhere.
 */
export function valueAtPath(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const m of path.matchAll(SEGMENT)) {
    if (typeof current !== 'object' || current === null) return undefined;
    const key = m[1] ?? m[2] ?? '';
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(key)) return undefined;
      current = current[Number(key)];
    } else {
      current = Object.prototype.hasOwnProperty.call(current, key) ? (current as Record<string, unknown>)[key] : undefined;
    }
  }
  return current;
}

/** field.NewPath: a path from its top-level field and any children. */
export function newPath(name: string, ...moreNames: string[]): FieldPath {
  return FieldPath.root(name, ...moreNames);
}

/** One FieldError from its parts (prefer the makers of forRule). */
export function fieldError(parts: { type: FieldErrorType; path: FieldPath; rule: string; message: string }): FieldError {
  return { field: parts.path.toString(), type: parts.type, message: parts.message, rule: parts.rule };
}

/** The five error makers of one rule; the message says what was wrong and what would be accepted. */
export interface RuleErrors {
  readonly rule: string;
  /** FieldValueInvalid: the value is malformed or out of range. */
  invalid(path: FieldPath, message: string): FieldError;
  /** FieldValueRequired: a field this object needs is missing. */
  required(path: FieldPath, message: string): FieldError;
  /** FieldValueForbidden: the value is well-formed but not allowed here. */
  forbidden(path: FieldPath, message: string): FieldError;
  /** FieldValueDuplicate: the value repeats one that must be unique. */
  duplicate(path: FieldPath, message: string): FieldError;
  /** FieldValueNotSupported: the value is not one of those accepted (name them in the message). */
  notSupported(path: FieldPath, message: string): FieldError;
}

/** The error makers for a rule, so each error carries the rule's name for the `denials by rule` metric. */
export function forRule(rule: string): RuleErrors {
  const make = (type: FieldErrorType) => (path: FieldPath, message: string): FieldError => fieldError({ type, path, rule, message });
  return {
    rule,
    invalid: make('FieldValueInvalid'),
    required: make('FieldValueRequired'),
    forbidden: make('FieldValueForbidden'),
    duplicate: make('FieldValueDuplicate'),
    notSupported: make('FieldValueNotSupported'),
  };
}
