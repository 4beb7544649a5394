/**
 * Hard placement limits counted against the VMs that already exist (their spec.placement):
 * required VM anti-affinity, and strict maxVMsPerHost/Cluster/Datastore. Only what the VM pins
 * can be checked here; an open placement is the placement engine's to honour.
 */
import type { VMAffinityTerm } from '../../../api/kinds/vm-placement-policy.ts';
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { formatSelector, selectorMatches, type Selector } from '../shared/label-selector.ts';
import { countOf, listNames } from '../shared/name-list.ts';
import { placementValue, strictSpreadLimits, topologyField, vmsOn, vmsUnderPolicy, type PlacementField } from '../shared/placement-fields.ts';
import { describeObject } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import { otherVMs, vmCountOf, type VMSpecContext, type VMSpecRule } from './vm-spec-context.ts';

const antiAffinity = ruleErrors('placement-vm-anti-affinity');
const maxVMs = ruleErrors('placement-max-vms');

export const MESSAGE_ANTI_AFFINITY = (p: { policy: string; term: number; selector: string; field: PlacementField; value: string; holders: string }): string =>
  `${p.policy} forbids sharing a ${p.field} with VMs matching ${p.selector} (spec.antiAffinity.vmAntiAffinity.requiredDuringScheduling[${p.term}]), `
  + `and ${p.holders} already on ${p.field} ${p.value}: choose another ${p.field}, or leave it empty for the policy to choose`;
export const MESSAGE_ANTI_AFFINITY_SELF = (p: { policy: string; term: number; selector: string; field: PlacementField; value: string; replicas: number }): string =>
  `${p.policy} forbids sharing a ${p.field} with VMs matching ${p.selector} (spec.antiAffinity.vmAntiAffinity.requiredDuringScheduling[${p.term}]), `
  + `and this VMSet's ${p.replicas} replicas match it and would all be on ${p.field} ${p.value}: leave ${p.field} empty so each replica is placed apart`;
export const MESSAGE_MAX_VMS = (p: { policy: string; source: string; max: number; field: PlacementField; value: string; existing: string[]; adding: number }): string =>
  `${p.policy} allows at most ${p.max} of its VMs per ${p.field} (spec.${p.source}, scope strict), and ${p.field} ${p.value} `
  + `${p.existing.length === 0 ? 'has none yet' : `already has ${p.existing.length} (${listNames(p.existing)})`}`
  + `${p.adding > 1 ? ` while this VMSet adds ${p.adding}` : ''}: choose another ${p.field}, or leave it empty for the policy to choose`;

/** The term's selector; a term with neither labelSelector nor matchExpressions selects no VM. */
function termSelector(term: VMAffinityTerm): Selector | undefined {
  if (!term.labelSelector && !term.matchExpressions) return undefined;
  return {
    matchLabels: term.labelSelector?.matchLabels,
    matchExpressions: [...(term.labelSelector?.matchExpressions ?? []), ...(term.matchExpressions ?? [])],
  };
}

function antiAffinityErrors(ctx: VMSpecContext, policyName: string): FieldError[] {
  const terms = ctx.refs.policy?.spec.antiAffinity?.vmAntiAffinity?.requiredDuringScheduling ?? [];
  const found: FieldError[] = [];
  terms.forEach((term, i) => {
    const field = topologyField(term.topologyKey);
    const selector = termSelector(term);
    const value = field ? placementValue(ctx.spec.placement, field) : undefined;
    if (!field || !selector || value === undefined) return;
    const path = ctx.path.child('placement', field);
    const shown = { policy: policyName, term: i, selector: formatSelector(selector), field, value };
    if (ctx.subject.kind === 'VMSet' && vmCountOf(ctx) > 1 && selectorMatches(selector, ctx.labels)) {
      found.push(antiAffinity.forbidden(path, MESSAGE_ANTI_AFFINITY_SELF({ ...shown, replicas: vmCountOf(ctx) })));
      return;
    }
    const namespaces = term.namespaces && term.namespaces.length > 0 ? term.namespaces : [ctx.namespace];
    const holders: string[] = [];
    for (const ns of namespaces) {
      for (const vm of otherVMs(ctx, ns)) {
        if (placementValue(vm.spec.placement, field) === value && selectorMatches(selector, vm.metadata.labels ?? {})) {
          holders.push(`${ns}/${vm.metadata.name ?? ''}`);
        }
      }
    }
    if (holders.length > 0) {
      found.push(antiAffinity.forbidden(path, MESSAGE_ANTI_AFFINITY({ ...shown, holders: `${countOf(holders.length, 'VM')} (${listNames(holders)}) ${holders.length === 1 ? 'is' : 'are'}` })));
    }
  });
  return found;
}

function maxVMsErrors(ctx: VMSpecContext, policyName: string): FieldError[] {
  const { policy, policyRef } = ctx.refs;
  if (!policy || !policyRef) return [];
  const found: FieldError[] = [];
  const governed = vmsUnderPolicy(otherVMs(ctx), policyRef.name);
  for (const limit of strictSpreadLimits(policy)) {
    const value = placementValue(ctx.spec.placement, limit.field);
    if (value === undefined) continue;
    const existing = vmsOn(governed, limit.field, value).map((vm) => vm.metadata.name ?? '');
    const adding = vmCountOf(ctx);
    if (existing.length + adding <= limit.max) continue;
    found.push(maxVMs.forbidden(ctx.path.child('placement', limit.field),
      MESSAGE_MAX_VMS({ policy: policyName, source: limit.source, max: limit.max, field: limit.field, value, existing, adding })));
  }
  return found;
}

export const validatePlacementLimits: VMSpecRule = (ctx) => {
  if (!ctx.refs.policy || !ctx.refs.policyRef) return result({});
  const policyName = describeObject('VMPlacementPolicy', ctx.refs.policyRef.namespace, ctx.refs.policyRef.name);
  return result({ errors: [...antiAffinityErrors(ctx, policyName), ...maxVMsErrors(ctx, policyName)] });
};
