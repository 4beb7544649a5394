/**
 * Strings a schema node admits: its pattern (as the apiserver's RE2 reads it; every upstream
 * pattern means the same in JavaScript), its format, and its length bounds. Kept short, because
 * a corpus of long strings tests the same thing as one of short strings, only slower.
 */
import fc from 'fast-check';
import type { JsonSchema } from './json-schema.ts';

/** Longest free-text string generated (a pattern's own mandatory parts may make it longer). */
export const STRING_CAP = 12;

const DATE_MIN = new Date('1970-01-01T00:00:00Z');
const DATE_MAX = new Date('2099-12-31T23:59:59Z');

/** An arbitrary of the strings `schema` admits; `path` names the field in errors. */
export function stringArbitrary(schema: JsonSchema, path: string): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength;
  if (maxLength !== undefined && maxLength < minLength) throw new Error(`${path}: maxLength < minLength, no string fits`);
  const fits = (s: string) => runes(s) >= minLength && (maxLength === undefined || runes(s) <= maxLength);

  if (schema.format !== undefined && schema.format !== 'date-time') {
    // Other string formats do not occur upstream; failing beats generating values that may not conform.
    throw new Error(`${path}: string format "${schema.format}" is not supported by the corpus generator`);
  }
  if (schema.format === 'date-time') {
    const dates = fc.date({ min: DATE_MIN, max: DATE_MAX }).map((d) => d.toISOString());
    return schema.pattern === undefined ? dates.filter(fits) : dates.filter((s) => new RegExp(schema.pattern!).test(s) && fits(s));
  }
  if (schema.pattern !== undefined) {
    // 'xsmall' keeps repetitions short; the filter only trims the rare sample over maxLength.
    return matching(schema.pattern).filter(fits);
  }
  const cap = Math.max(minLength, Math.min(maxLength ?? STRING_CAP, STRING_CAP));
  const ascii = fc.string({ minLength, maxLength: cap });
  if (maxLength !== undefined) return ascii;
  // Unbounded fields also get non-ASCII text: the apiserver must take any UTF-8. Bounded ones
  // stay ASCII so a grapheme of several code points never crosses maxLength (counted in runes).
  return fc.oneof(
    { weight: 4, arbitrary: ascii },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength: Math.max(minLength, 4) }) },
  );
}

// Compiling a pattern into an arbitrary is the costly part of building one (tens of ms for a
// kind); arbitraries are immutable, so one per pattern serves every field and every density.
const byPattern = new Map<string, fc.Arbitrary<string>>();

function matching(pattern: string): fc.Arbitrary<string> {
  let arb = byPattern.get(pattern);
  if (!arb) byPattern.set(pattern, (arb = fc.stringMatching(new RegExp(pattern), { size: 'xsmall' })));
  return arb;
}

/** Map keys: short, non-empty printable ASCII (empty keys are legal JSON but no real object has them). */
export function mapKeyArbitrary(): fc.Arbitrary<string> {
  return fc.string({ minLength: 1, maxLength: 10 });
}

/** Length as the apiserver counts it: Unicode code points (Go runes), not UTF-16 units. */
function runes(s: string): number {
  return [...s].length;
}
