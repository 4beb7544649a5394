/**
 * The rule tables the server is given (dependency injection): the real ones come from
 * webhook/kinds and are wired in webhook/main.ts; tests pass their own.
 */
import type { AnyVirtRigaudObject } from '../../api/objects.ts';
import type { Mutator, Validator } from '../framework/types.ts';
import type { KindName } from './routes.ts';

export type ObjectOfKind<K extends KindName> = Extract<AnyVirtRigaudObject, { kind: K }>;

/** At most one validator per kind (a kind's validator composes its own sub-rules). */
export type ValidatorTable = { [K in KindName]?: Validator<ObjectOfKind<K>> };

/** Mutators per kind, run in array order. */
export type MutatorTable = { [K in KindName]?: readonly Mutator<ObjectOfKind<K>>[] };

export interface RuleSet {
  validators: ValidatorTable;
  mutators: MutatorTable;
}
