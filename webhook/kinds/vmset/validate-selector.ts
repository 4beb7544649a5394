/**
 * A VMSet's selector is non-empty, well-formed, and matches its template's labels; otherwise the
 * set would claim every VM of the namespace, or never see the VMs it creates.
 */
import type { VMSet } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { formatSelector, isEmptySelector, selectorMatches } from '../shared/label-selector.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('vmset-selector');

export const SELECTOR_OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export const MESSAGE_SELECTOR_EMPTY =
  'a VMSet needs a selector (matchLabels or matchExpressions) that its template labels satisfy: an empty one would claim every VM of the namespace';
export const MESSAGE_SELECTOR_MISMATCH = (selector: string): string =>
  `\`selector\` does not match template \`labels\`: give spec.template.metadata.labels labels that satisfy ${selector}`;
export const MESSAGE_OPERATOR = (operator: string): string =>
  `operator ${operator} is not a label selector operator: use one of ${SELECTOR_OPERATORS.join(', ')}`;
export const MESSAGE_VALUES_REQUIRED = (operator: string): string => `operator ${operator} needs at least one value`;
export const MESSAGE_VALUES_FORBIDDEN = (operator: string): string => `operator ${operator} takes no values: remove them`;

function expressionErrors(set: VMSet): FieldError[] {
  const found: FieldError[] = [];
  (set.spec.selector.matchExpressions ?? []).forEach((req, i) => {
    const path = newPath('spec', 'selector', 'matchExpressions').index(i);
    const values = req.values ?? [];
    if (!SELECTOR_OPERATORS.includes(req.operator)) found.push(errors.notSupported(path.child('operator'), MESSAGE_OPERATOR(req.operator)));
    else if ((req.operator === 'In' || req.operator === 'NotIn') && values.length === 0) {
      found.push(errors.required(path.child('values'), MESSAGE_VALUES_REQUIRED(req.operator)));
    } else if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0) {
      found.push(errors.forbidden(path.child('values'), MESSAGE_VALUES_FORBIDDEN(req.operator)));
    }
  });
  return found;
}

export const validateSelector: Validator<VMSet> = ({ operation, object }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  const selector = object.spec.selector;
  if (isEmptySelector(selector)) return result({ errors: [errors.required(newPath('spec', 'selector'), MESSAGE_SELECTOR_EMPTY)] });
  const malformed = expressionErrors(object);
  if (malformed.length > 0) return result({ errors: malformed });
  if (selectorMatches(selector, object.spec.template.metadata?.labels ?? {})) return allowed();
  return result({ errors: [errors.invalid(newPath('spec', 'template', 'metadata', 'labels'), MESSAGE_SELECTOR_MISMATCH(formatSelector(selector)))] });
};
