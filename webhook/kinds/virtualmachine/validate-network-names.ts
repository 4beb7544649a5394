/** Network attachments of a VM have unique names (the agents key NICs by them). */
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { result } from '../shared/result.ts';
import type { VMSpecRule } from './vm-spec-context.ts';

const errors = ruleErrors('network-names-unique');

export const MESSAGE_NETWORK_DUPLICATE = (name: string, first: number): string =>
  `network name ${name} is already used by networks[${first}]: give each network attachment its own name`;

export const validateNetworkNames: VMSpecRule = (ctx) => {
  const seen = new Map<string, number>();
  const found: FieldError[] = [];
  (ctx.spec.networks ?? []).forEach((network, i) => {
    const first = seen.get(network.name);
    if (first === undefined) seen.set(network.name, i);
    else found.push(errors.duplicate(ctx.path.child('networks').index(i).child('name'), MESSAGE_NETWORK_DUPLICATE(network.name, first)));
  });
  return result({ errors: found });
};
