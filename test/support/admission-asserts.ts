/** Assertions on ValidationResults, by field path and rule (never a bare boolean). */
import assert from 'node:assert/strict';
import type { AnyVirtRigaudObject } from '../../api/objects.ts';
import type { FieldErrorType, Lookup, Operation, ValidationResult, Validator } from '../../webhook/framework/types.ts';
import { anInMemoryLookup } from './builders.ts';

/** An expected denial cause. */
export interface Denial {
  field: string;
  rule: string;
  type?: FieldErrorType;
}

/** Runs a validator with CREATE and an empty cache unless told otherwise. */
export function run<T extends AnyVirtRigaudObject>(
  validator: Validator<T>,
  input: { object: T; oldObject?: T; operation?: Operation; lookup?: Lookup },
): ValidationResult {
  return validator({
    operation: input.operation ?? (input.oldObject ? 'UPDATE' : 'CREATE'),
    object: input.object,
    ...(input.oldObject ? { oldObject: input.oldObject } : {}),
    lookup: input.lookup ?? anInMemoryLookup(),
  });
}

const show = (r: ValidationResult): string => JSON.stringify(r.errors, null, 2);

/** Exactly these causes (field + rule, and type where given), in any order. */
export function assertDenied(result: ValidationResult, expected: readonly Denial[]): void {
  const got = result.errors.map((e) => `${e.rule} @ ${e.field}`).sort();
  const want = expected.map((d) => `${d.rule} @ ${d.field}`).sort();
  assert.deepEqual(got, want, `causes differ; got ${show(result)}`);
  for (const d of expected) {
    if (!d.type) continue;
    const e = result.errors.find((x) => x.field === d.field && x.rule === d.rule);
    assert.equal(e?.type, d.type, `type of ${d.rule} @ ${d.field}`);
  }
  for (const e of result.errors) assert.ok(e.message.length > 0, `${e.rule} @ ${e.field} has a message`);
}

export function assertAllowed(result: ValidationResult): void {
  assert.deepEqual(result.errors, [], `expected no errors, got ${show(result)}`);
}

/** A denial's message, for tests that check what the user reads. */
export function messageOf(result: ValidationResult, field: string): string {
  const e = result.errors.find((x) => x.field === field);
  assert.ok(e, `no error at ${field}; got ${show(result)}`);
  return e.message;
}

/** One table row: a rule's name as the test name, the admission, and what must come of it. */
export interface RuleCase<T extends AnyVirtRigaudObject> {
  name: string;
  object: T;
  oldObject?: T;
  operation?: Operation;
  lookup?: Lookup;
  /** The causes expected; empty or absent means allowed. */
  denied?: readonly Denial[];
  /** Patterns each of which some warning must match. */
  warnings?: readonly RegExp[];
  /** Patterns the message at `denied[0].field` must match. */
  message?: RegExp;
}

/** Registers one mocha test per row. */
export function ruleTable<T extends AnyVirtRigaudObject>(validator: Validator<T>, cases: readonly RuleCase<T>[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const result = run(validator, c);
      if (c.denied && c.denied.length > 0) assertDenied(result, c.denied);
      else assertAllowed(result);
      for (const w of c.warnings ?? []) assert.ok(result.warnings.some((x) => w.test(x)), `no warning matches ${w}; got ${JSON.stringify(result.warnings)}`);
      if (c.message && c.denied?.[0]) assert.match(messageOf(result, c.denied[0].field), c.message);
    });
  }
}
