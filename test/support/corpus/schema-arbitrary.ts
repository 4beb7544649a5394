/**
 * A fast-check arbitrary of the values a CRD schema node accepts: required properties always,
 * optional ones at random (ever rarer with depth, so objects stay moderate), enums, bounds,
 * patterns, formats, int-or-string, maps and free-form objects — shaped by the kind's ShapeRules.
 */
import fc from 'fast-check';
import { admissibleEnum, foldAllOf, type JsonSchema } from './json-schema.ts';
import { integerArbitrary, numberArbitrary } from './number-arbitrary.ts';
import type { ShapeRules } from './shape-rules.ts';
import { mapKeyArbitrary, stringArbitrary } from './string-arbitrary.ts';

/** Options of {@link schemaArbitrary}. */
export interface SchemaArbitraryOptions {
  /** Chance (0..1) that an optional property of the root object is set; 0 gives required fields only. */
  density: number;
  /** The kind's deliberate refusals and unsatisfiable fields. */
  rules?: ShapeRules;
}

/** Each object level down keeps this share of its parent's chance of setting an optional property. */
export const DENSITY_DECAY = 0.75;
/** Most entries generated in a list or a map (within the schema's own bounds). */
export const COLLECTION_CAP = 3;

type Built = fc.Arbitrary<unknown> | undefined;

/**
 * The arbitrary for `schema` rooted at `rootPath` (e.g. `spec`). Throws when a rule names a path
 * the schema does not have, or when an optional field admits no value and no rule says why: the
 * generator never drops a field silently.
 */
export function schemaArbitrary(schema: JsonSchema, rootPath: string, options: SchemaArbitraryOptions): fc.Arbitrary<unknown> {
  const builder = new Builder(options);
  const arb = builder.build(schema, rootPath, 0);
  if (!arb) throw new Error(`${rootPath}: the schema admits no value`);
  builder.assertRulesMatched();
  return arb;
}

class Builder {
  private readonly visited = new Set<string>();
  private readonly rules: ShapeRules;

  constructor(private readonly options: SchemaArbitraryOptions) {
    this.rules = options.rules ?? {};
  }

  /** Returns undefined when no value satisfies the node (its parent decides what that means). */
  build(schema: JsonSchema, path: string, depth: number): Built {
    this.visited.add(path);
    const node = foldAllOf(schema);
    const values = admissibleEnum(node);
    if (values) return values.length > 0 ? fc.constantFrom(...values) : undefined;
    if (node['x-kubernetes-int-or-string']) {
      // Bounds constrain the integer form, a pattern or lengths the string form (as the apiserver reads them).
      const integers = integerArbitrary({ type: 'integer', minimum: node.minimum, maximum: node.maximum }, path);
      return fc.oneof(integers, stringArbitrary(node, path));
    }
    if (node.anyOf) throw new Error(`${path}: anyOf other than int-or-string is not supported`);
    switch (node.type) {
      case 'string':
        return stringArbitrary(node, path);
      case 'integer':
        return integerArbitrary(node, path);
      case 'number':
        return numberArbitrary(node);
      case 'boolean':
        return fc.boolean();
      case 'array':
        return this.array(node, path, depth);
      case 'object':
        return this.object(node, path, depth);
      default:
        throw new Error(`${path}: schema without a type is not supported`);
    }
  }

  assertRulesMatched(): void {
    const { exactlyOneOf = {}, needs = {}, never = {} } = this.rules;
    const paths = [
      ...Object.entries(exactlyOneOf).flatMap(([p, keys]) => keys.map((k) => `${p}.${k}`)),
      ...Object.entries(needs).flatMap(([p, m]) => Object.entries(m).flatMap(([k, n]) => [`${p}.${k}`, `${p}.${n}`])),
      ...Object.keys(never),
    ];
    const stale = paths.filter((p) => !this.visited.has(p));
    if (stale.length > 0) throw new Error(`shape rules name fields the schema does not have: ${stale.join(', ')}`);
  }

  private array(node: JsonSchema, path: string, depth: number): Built {
    const itemPath = `${path}[]`;
    const item = node.items ? this.build(node.items, itemPath, depth) : undefined;
    const minLength = node.minItems ?? 0;
    const maxLength = Math.max(minLength, Math.min(node.maxItems ?? COLLECTION_CAP, COLLECTION_CAP));
    if (!item) {
      if (minLength > 0) return undefined;
      throw new Error(`${itemPath}: the list's items admit no value`);
    }
    const listType = node['x-kubernetes-list-type'];
    if (listType === 'set') {
      return fc.uniqueArray(item, { minLength, maxLength, selector: (v) => JSON.stringify(v) });
    }
    if (listType === 'map') {
      // Entries of a map-list are identified by their keys; duplicates are refused.
      const keys = node['x-kubernetes-list-map-keys'] ?? [];
      const selector = (v: unknown) => JSON.stringify(keys.map((k) => (v as Record<string, unknown>)[k]));
      return fc.uniqueArray(item, { minLength, maxLength, selector });
    }
    return fc.array(item, { minLength, maxLength });
  }

  private object(node: JsonSchema, path: string, depth: number): Built {
    if (node.properties) return this.record(node, node.properties, path, depth);
    if (typeof node.additionalProperties === 'object') {
      const valuePath = `${path}{}`;
      const value = this.build(node.additionalProperties, valuePath, depth + 1);
      const minKeys = node.minProperties ?? 0;
      if (!value) {
        if (minKeys > 0) return undefined;
        throw new Error(`${valuePath}: the map's values admit no value`);
      }
      const maxKeys = Math.max(minKeys, Math.min(node.maxProperties ?? COLLECTION_CAP, COLLECTION_CAP));
      return fc.dictionary(mapKeyArbitrary(), value, { minKeys, maxKeys });
    }
    // Free-form: preserved as is, or (an object declaring no fields) accepted and pruned by
    // server-side apply, whatever it holds. Either way upstream takes any content.
    return this.freeForm(path);
  }

  /** Any small JSON object, minus keys a rule rules out (`never` on `path.key`). */
  private freeForm(path: string): fc.Arbitrary<Record<string, unknown>> {
    const never = this.rules.never ?? {};
    for (const p of Object.keys(never)) if (p.startsWith(`${path}.`)) this.visited.add(p);
    const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -1000, max: 1000 }), fc.boolean());
    const value = fc.oneof(scalar, fc.dictionary(mapKeyArbitrary(), fc.string({ maxLength: 8 }), { maxKeys: 2 }));
    const key = mapKeyArbitrary().filter((k) => !(`${path}.${k}` in never));
    return fc.dictionary(key, value, { maxKeys: COLLECTION_CAP });
  }

  private record(node: JsonSchema, properties: Record<string, JsonSchema>, path: string, depth: number): Built {
    const required = new Set(node.required ?? []);
    const never = this.rules.never ?? {};
    const group = this.rules.exactlyOneOf?.[path] ?? [];
    const needs = this.rules.needs?.[path] ?? {};
    const values = new Map<string, fc.Arbitrary<unknown>>();
    for (const [key, child] of Object.entries(properties)) {
      const childPath = `${path}.${key}`;
      if (childPath in never) {
        this.visited.add(childPath);
        if (required.has(key)) throw new Error(`${childPath}: a required field cannot be ruled out`);
        continue;
      }
      const value = this.build(child, childPath, depth + 1);
      if (!value) {
        if (required.has(key)) return undefined;
        throw new Error(`${childPath}: upstream admits no value here; add it to the kind's ShapeRules.never with the reason`);
      }
      values.set(key, value);
    }
    for (const key of [...group, ...Object.keys(needs)]) {
      if (required.has(key)) throw new Error(`${path}.${key}: a rule cannot make a required field optional`);
    }
    const optional = [...values.keys()].filter((k) => !required.has(k) && !group.includes(k));
    const chance = this.options.density * DENSITY_DECAY ** depth;
    const flags = fc.tuple(...optional.map(() => coin(chance)));
    const pick = group.length > 0 ? fc.constantFrom(...group) : fc.constant(undefined);
    return fc.tuple(flags, pick).chain(([set, picked]) => {
      const present = new Set([...required].filter((k) => values.has(k)));
      optional.forEach((key, i) => set[i] && present.add(key));
      if (picked !== undefined) present.add(picked);
      for (const [key, needed] of Object.entries(needs)) if (!present.has(needed)) present.delete(key);
      const fields = [...values].filter(([key]) => present.has(key));
      return fc.record(Object.fromEntries(fields));
    });
  }
}

/** True with probability p. Unbiased: fast-check's bias toward small integers would skew it. */
function coin(p: number): fc.Arbitrary<boolean> {
  return fc.noBias(fc.integer({ min: 0, max: 999 })).map((n) => n < p * 1000);
}
