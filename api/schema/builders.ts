/**
 * Schema builders for Kubernetes structural schemas on top of TypeBox.
 *
 * TypeBox gives each schema a static TypeScript type; these helpers cover the shapes a CRD
 * needs that TypeBox would otherwise express in ways the apiserver refuses (`const`/`anyOf`
 * for enums, `patternProperties` for maps).
 */
import { Type, type SchemaOptions, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** Options a CRD schema node may carry beyond JSON Schema's (x-kubernetes-* extensions). */
export type KubeSchemaOptions = SchemaOptions & Record<`x-kubernetes-${string}`, unknown>;

/** A string limited to the given values, rendered as `enum` (structural schemas have no `const`). */
export function StringEnum<const T extends readonly string[]>(values: T, options: KubeSchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** Kubernetes' IntOrString (quantities, ports). */
export function IntOrString(options: KubeSchemaOptions = {}): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    ...options,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  });
}

/** A map with string keys, rendered as `additionalProperties`. */
export function StringMap<V extends TSchema>(values: V, options: KubeSchemaOptions = {}): TUnsafe<Record<string, Static<V>>> {
  return Type.Unsafe<Record<string, Static<V>>>({ ...options, type: 'object', additionalProperties: values });
}

/** An object whose content the apiserver keeps as given (opaque, provider-specific data). */
export function FreeForm(options: KubeSchemaOptions = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({ ...options, type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
}

/** The same schema with the description of the field that uses it. */
export function described<S extends TSchema>(schema: S, description: string): S {
  return { ...schema, description };
}

/** A CEL validation rule (`x-kubernetes-validations` entry); messages name the field they guard. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The same schema with CEL rules added (kept alongside any it already has). */
export function validated<S extends TSchema>(schema: S, ...rules: CelRule[]): S {
  const existing = (schema['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
  return { ...schema, 'x-kubernetes-validations': [...existing, ...rules] };
}

/** A rule that exactly one of the object's optional fields is set (a "oneOf" the apiserver can explain). */
export function exactlyOneOf(fields: readonly string[]): CelRule {
  return {
    rule: `[${fields.map((f) => `has(self.${f})`).join(', ')}].filter(x, x).size() == 1`,
    message: `exactly one of ${fields.join(', ')} must be set`,
  };
}

/** A rule that a field (or the whole node, with no field) never changes after creation. */
export function immutable(field: string | undefined, why: string): CelRule {
  if (field === undefined) return { rule: 'self == oldSelf', message: `is immutable: ${why}` };
  return {
    rule: `has(self.${field}) == has(oldSelf.${field}) && (!has(self.${field}) || self.${field} == oldSelf.${field})`,
    message: `${field} is immutable: ${why}`,
    fieldPath: `.${field}`,
  };
}
