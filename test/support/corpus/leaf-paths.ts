/**
 * Which fields an object sets, as schema paths (`spec.disks[].name`): the measure that shows a
 * corpus exercises optional fields instead of passing with required-only objects.
 */
import { foldAllOf, type JsonSchema } from './json-schema.ts';

/** Number of scalar values (strings, numbers, booleans) anywhere in a value. */
export function countLeaves(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countLeaves(v), 0);
  if (isObject(value)) return Object.values(value).reduce((n: number, v) => n + countLeaves(v), 0);
  return 1;
}

/**
 * Schema paths of the scalars a value sets, read along its schema (list entries become `[]`,
 * map values `{}`: the spelling of ShapeRules and of {@link schemaLeafPaths}).
 */
export function setLeafPaths(value: unknown, schema: JsonSchema, path: string, into = new Set<string>()): Set<string> {
  const node = foldAllOf(schema);
  if (Array.isArray(value)) {
    if (node.items) for (const v of value) setLeafPaths(v, node.items, `${path}[]`, into);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const child = node.properties?.[k] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
      if (child) setLeafPaths(v, child, node.properties ? `${path}.${k}` : `${path}{}`, into);
    }
  } else {
    into.add(path);
  }
  return into;
}

/** Every scalar path a schema declares: what {@link setLeafPaths} can report at most. */
export function schemaLeafPaths(schema: JsonSchema, path: string, into = new Set<string>()): Set<string> {
  const node = foldAllOf(schema);
  if (node.type === 'array') {
    if (node.items) schemaLeafPaths(node.items, `${path}[]`, into);
  } else if (node.type === 'object') {
    for (const [k, child] of Object.entries(node.properties ?? {})) schemaLeafPaths(child, `${path}.${k}`, into);
    if (typeof node.additionalProperties === 'object') schemaLeafPaths(node.additionalProperties, `${path}{}`, into);
  } else {
    into.add(path);
  }
  return into;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
