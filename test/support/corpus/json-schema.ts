/**
 * The part of a CRD's structural OpenAPI v3 schema the corpus generator reads, and the one
 * normalisation it needs: folding `allOf` into its parent, as the apiserver checks every branch.
 */

/** A node of a CRD openAPIV3Schema (structural: every node has a type, or is int-or-string). */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: unknown[];
}

/**
 * Folds `allOf` branches into the node. controller-gen emits `allOf: [{enum}, {enum}]` when an
 * enum is declared on both a type and a field; a value must satisfy every branch, so enums
 * intersect and bounds tighten. Branches here never carry properties (structural schemas forbid
 * it), so only value keywords are merged.
 */
export function foldAllOf(schema: JsonSchema): JsonSchema {
  if (!schema.allOf?.length) return schema;
  const { allOf, ...folded } = schema;
  for (const branch of allOf) {
    const b = foldAllOf(branch);
    if (b.enum) folded.enum = folded.enum ? folded.enum.filter((v) => b.enum!.some((w) => sameValue(v, w))) : [...b.enum];
    if (b.pattern !== undefined) {
      if (folded.pattern !== undefined && folded.pattern !== b.pattern) {
        throw new Error(`allOf with two different patterns (${folded.pattern}, ${b.pattern}) is not supported`);
      }
      folded.pattern = b.pattern;
    }
    folded.format ??= b.format;
    folded.minLength = maxOf(folded.minLength, b.minLength);
    folded.maxLength = minOf(folded.maxLength, b.maxLength);
    folded.minimum = maxOf(folded.minimum, b.minimum);
    folded.maximum = minOf(folded.maximum, b.maximum);
    folded.minItems = maxOf(folded.minItems, b.minItems);
    folded.maxItems = minOf(folded.maxItems, b.maxItems);
  }
  return dropUndefined(folded);
}

/** Enum values of a node that its type admits (an enum of numbers on a string field admits none). */
export function admissibleEnum(schema: JsonSchema): unknown[] | undefined {
  if (!schema.enum) return undefined;
  return schema.enum.filter((v) => valueHasType(v, schema));
}

function valueHasType(value: unknown, schema: JsonSchema): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value);
  switch (schema.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function minOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
