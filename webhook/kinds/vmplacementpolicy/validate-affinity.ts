/**
 * A policy may not ask for affinity and anti-affinity to the same VMs in the same topology
 * domain: required terms that contradict are refused, a contradiction involving a preferred term
 * is a warning (the scheduler can only honour one). Domain rules (host, cluster, datastore, zone)
 * that are both strict contradict unless the anti-affinity lets more than one VM share the domain.
 */
import type { VMAffinityTerm, VMPlacementPolicySpec } from '../../../api/kinds/vm-placement-policy.ts';
import type { VMPlacementPolicy } from '../../../api/objects.ts';
import { newPath, type FieldPath } from '../../framework/field-path.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { canonicalSelector, formatSelector } from '../shared/label-selector.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('policy-affinity-contradiction');

export const MESSAGE_TERMS_CONTRADICT = (selector: string, topologyKey: string, affinityAt: string): string =>
  `asks VMs matching ${selector} to share a ${topologyKey} (${affinityAt}) and never to share one: keep one of the two terms`;
export const WARNING_TERMS_CONTRADICT = (antiAt: string, affinityAt: string): string =>
  `VMPlacementPolicy ${antiAt} and ${affinityAt} name the same VMs and topology key; only one can be honoured`;
export const MESSAGE_DOMAIN_CONTRADICTS = (domain: string, affinityAt: string, limitField: string): string =>
  `keeps the policy's VMs apart on separate ${domain}s while ${affinityAt} keeps them on the same ${domain} (both scope strict): `
  + `keep one of the two, or set ${limitField} above 1 to cap how many share a ${domain}`;

interface PlacedTerm {
  term: VMAffinityTerm;
  path: FieldPath;
  required: boolean;
}

/** Same VMs, same namespaces, same topology key. */
function termKey(term: VMAffinityTerm): string {
  const selector = canonicalSelector({
    matchLabels: term.labelSelector?.matchLabels,
    matchExpressions: [...(term.labelSelector?.matchExpressions ?? []), ...(term.matchExpressions ?? [])],
  });
  const namespaces = [...(term.namespaces ?? [])].sort().join(',');
  return `${selector}|${namespaces}|${canonicalSelector(term.namespaceSelector ?? {})}|${term.topologyKey}`;
}

function termsOf(rules: { requiredDuringScheduling?: VMAffinityTerm[]; preferredDuringScheduling?: Array<{ vmAffinityTerm: VMAffinityTerm }> } | undefined, base: FieldPath): PlacedTerm[] {
  return [
    ...(rules?.requiredDuringScheduling ?? []).map((term, i) => ({ term, path: base.child('requiredDuringScheduling').index(i), required: true })),
    ...(rules?.preferredDuringScheduling ?? []).map((w, i) => ({ term: w.vmAffinityTerm, path: base.child('preferredDuringScheduling').index(i).child('vmAffinityTerm'), required: false })),
  ];
}

function termContradictions(spec: VMPlacementPolicySpec): { errors: FieldError[]; warnings: string[] } {
  const affinity = termsOf(spec.affinity?.vmAffinity, newPath('spec', 'affinity', 'vmAffinity'));
  const anti = termsOf(spec.antiAffinity?.vmAntiAffinity, newPath('spec', 'antiAffinity', 'vmAntiAffinity'));
  const found: FieldError[] = [];
  const warnings: string[] = [];
  for (const a of anti) {
    const key = termKey(a.term);
    for (const b of affinity) {
      if (termKey(b.term) !== key) continue;
      if (a.required && b.required) {
        const selector = formatSelector({ matchLabels: a.term.labelSelector?.matchLabels, matchExpressions: [...(a.term.labelSelector?.matchExpressions ?? []), ...(a.term.matchExpressions ?? [])] });
        found.push(errors.forbidden(a.path, MESSAGE_TERMS_CONTRADICT(selector, a.term.topologyKey, b.path.toString())));
      } else {
        warnings.push(WARNING_TERMS_CONTRADICT(a.path.toString(), b.path.toString()));
      }
    }
  }
  return { errors: found, warnings };
}

const DOMAINS = [
  { domain: 'host', affinity: 'hostAffinity', anti: 'hostAntiAffinity', max: 'maxVMsPerHost' },
  { domain: 'cluster', affinity: 'clusterAffinity', anti: 'clusterAntiAffinity', max: 'maxVMsPerCluster' },
  { domain: 'datastore', affinity: 'datastoreAffinity', anti: 'datastoreAntiAffinity', max: 'maxVMsPerDatastore' },
  { domain: 'zone', affinity: 'zoneAffinity', anti: 'zoneAntiAffinity', max: 'maxVMsPerZone' },
] as const;

interface DomainRule {
  enabled: boolean;
  scope?: 'strict' | 'preferred';
}

function domainContradictions(spec: VMPlacementPolicySpec): FieldError[] {
  const found: FieldError[] = [];
  for (const d of DOMAINS) {
    const together = spec.affinity?.[d.affinity] as DomainRule | undefined;
    const apart = spec.antiAffinity?.[d.anti] as (DomainRule & Partial<Record<typeof d.max, number>>) | undefined;
    if (!together?.enabled || together.scope !== 'strict' || !apart?.enabled || apart.scope !== 'strict') continue;
    if ((apart[d.max] ?? 1) > 1) continue;
    found.push(errors.forbidden(newPath('spec', 'antiAffinity', d.anti),
      MESSAGE_DOMAIN_CONTRADICTS(d.domain, `spec.affinity.${d.affinity}`, `spec.antiAffinity.${d.anti}.${d.max}`)));
  }
  return found;
}

export const validatePolicyAffinity: Validator<VMPlacementPolicy> = ({ operation, object }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  const terms = termContradictions(object.spec);
  return result({ errors: [...terms.errors, ...domainContradictions(object.spec)], warnings: terms.warnings });
};
