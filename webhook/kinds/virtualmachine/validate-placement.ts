/**
 * A VM with a placementRef may request (spec.placement) only what the policy's hard constraints
 * allow: a value in each non-empty allow-list and in none of the exclusion lists.
 */
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { hardVerdict, listOf, PLACEMENT_FIELDS, PLACEMENT_LISTS, placementValue, type PlacementField } from '../shared/placement-fields.ts';
import { describeObject } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import type { VMSpecRule } from './vm-spec-context.ts';

const errors = ruleErrors('placement-allowed');

export const MESSAGE_EXCLUDED = (field: PlacementField, value: string, policy: string, list: string): string =>
  `${field} ${value} is excluded by ${policy} (spec.hard.${list}): choose another ${field}, or leave it empty for the policy to choose`;
export const MESSAGE_NOT_ALLOWED = (field: PlacementField, value: string, policy: string, list: string, allowed: readonly string[]): string =>
  `${field} ${value} is not allowed by ${policy}: use one of ${allowed.join(', ')} (spec.hard.${list}), or leave it empty for the policy to choose`;

export const validatePlacementAllowed: VMSpecRule = (ctx) => {
  const policy = ctx.refs.policy;
  if (!policy || !ctx.refs.policyRef) return result({});
  const policyName = describeObject('VMPlacementPolicy', ctx.refs.policyRef.namespace, ctx.refs.policyRef.name);
  const found: FieldError[] = [];
  for (const field of PLACEMENT_FIELDS) {
    const value = placementValue(ctx.spec.placement, field);
    if (value === undefined) continue;
    const path = ctx.path.child('placement', field);
    const lists = PLACEMENT_LISTS[field];
    const verdict = hardVerdict(policy, field, value);
    if (verdict === 'excluded' && lists.exclude) found.push(errors.forbidden(path, MESSAGE_EXCLUDED(field, value, policyName, lists.exclude)));
    if (verdict === 'not-allowed') {
      found.push(errors.notSupported(path, MESSAGE_NOT_ALLOWED(field, value, policyName, lists.allow, listOf(policy.spec.hard, lists.allow))));
    }
  }
  return result({ errors: found });
};
