/** Integers and numbers a schema node admits: its bounds intersected with its format's range. */
import fc from 'fast-check';
import type { JsonSchema } from './json-schema.ts';

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
// int64 and unformatted integers (the apiserver reads both as int64) are limited to what a
// JavaScript number holds exactly; larger values would be rounded on the way to the server.
const SAFE = { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };

/** An arbitrary of the integers `schema` admits; fast-check's bias favours the bounds and zero. */
export function integerArbitrary(schema: JsonSchema, path: string): fc.Arbitrary<number> {
  const range = schema.format === 'int32' ? INT32 : SAFE;
  let min = Math.max(range.min, schema.minimum ?? range.min);
  let max = Math.min(range.max, schema.maximum ?? range.max);
  if (schema.exclusiveMinimum && schema.minimum !== undefined) min = Math.max(min, Math.floor(schema.minimum) + 1);
  if (schema.exclusiveMaximum && schema.maximum !== undefined) max = Math.min(max, Math.ceil(schema.maximum) - 1);
  min = Math.ceil(min);
  max = Math.floor(max);
  if (max < min) throw new Error(`${path}: no integer in [${min}, ${max}]`);
  return fc.integer({ min, max });
}

/** An arbitrary of the finite numbers `schema` admits (no upstream spec field is a number yet). */
export function numberArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  return fc.double({
    min: schema.minimum ?? -1e9,
    max: schema.maximum ?? 1e9,
    minExcluded: schema.exclusiveMinimum ?? false,
    maxExcluded: schema.exclusiveMaximum ?? false,
    noNaN: true,
    noDefaultInfinity: true,
  });
}
