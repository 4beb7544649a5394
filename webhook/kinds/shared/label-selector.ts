/** Label selectors (matchLabels + matchExpressions) evaluated against a label map. */

export interface SelectorRequirement {
  key: string;
  operator: string;
  values?: readonly string[];
}

export interface Selector {
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly SelectorRequirement[];
}

/** A selector with no requirement at all (it would match everything). */
export function isEmptySelector(selector: Selector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

function requirementMatches(req: SelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && value !== undefined && values.includes(value);
    case 'NotIn':
      return !has || value === undefined || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false; // an unknown operator matches nothing, as in apimachinery
  }
}

/** True when every requirement of the selector holds for the labels. */
export function selectorMatches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => requirementMatches(req, labels));
}

/** A canonical string of a selector, to compare two selectors regardless of order. */
export function canonicalSelector(selector: Selector): string {
  const labels = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const exprs = (selector.matchExpressions ?? []).map((r) => `${r.key} ${r.operator} (${[...(r.values ?? [])].sort().join(',')})`);
  return [...labels, ...exprs].sort().join(', ');
}

/** How a message shows a selector: `app=web, tier In (db)`. */
export function formatSelector(selector: Selector): string {
  const text = canonicalSelector(selector);
  return text === '' ? '(everything)' : text;
}
