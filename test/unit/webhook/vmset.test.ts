import { validateVMSet } from '../../../webhook/kinds/vmset/validate-vmset.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { aVMSet, aWorld } from '../../support/builders.ts';

const world = aWorld();

describe("VMSet: selector matches the template's labels (vmset-selector)", () => {
  ruleTable(validateVMSet, [
    {
      name: 'allows a selector its template labels satisfy',
      object: aVMSet(),
      lookup: world,
    },
    {
      name: 'denies template labels the selector does not match, at spec.template.metadata.labels',
      object: aVMSet({ spec: { template: { metadata: { labels: { app: 'api' } } } } }),
      lookup: world,
      denied: [{ field: 'spec.template.metadata.labels', rule: 'vmset-selector', type: 'FieldValueInvalid' }],
      message: /`selector` does not match template `labels`: give spec\.template\.metadata\.labels labels that satisfy app=web/,
    },
    {
      name: 'denies a template without labels',
      object: aVMSet({ spec: { template: { metadata: undefined } } }),
      lookup: world,
      denied: [{ field: 'spec.template.metadata.labels', rule: 'vmset-selector' }],
    },
    {
      name: 'denies an empty selector, which would claim every VM of the namespace',
      object: aVMSet({ spec: { selector: { matchLabels: undefined } } }),
      lookup: world,
      denied: [{ field: 'spec.selector', rule: 'vmset-selector', type: 'FieldValueRequired' }],
    },
    {
      name: 'allows matchExpressions the template labels satisfy',
      object: aVMSet({
        spec: {
          selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }, { key: 'canary', operator: 'DoesNotExist' }] },
        },
      }),
      lookup: world,
    },
    {
      name: 'denies matchExpressions the template labels fail',
      object: aVMSet({ spec: { selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } } }),
      lookup: world,
      denied: [{ field: 'spec.template.metadata.labels', rule: 'vmset-selector' }],
    },
    {
      name: 'denies an unknown selector operator, naming the valid ones',
      object: aVMSet({ spec: { selector: { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] } } }),
      lookup: world,
      denied: [{ field: 'spec.selector.matchExpressions[0].operator', rule: 'vmset-selector', type: 'FieldValueNotSupported' }],
      message: /use one of In, NotIn, Exists, DoesNotExist/,
    },
    {
      name: 'denies In without values',
      object: aVMSet({ spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } }),
      lookup: world,
      denied: [{ field: 'spec.selector.matchExpressions[0].values', rule: 'vmset-selector', type: 'FieldValueRequired' }],
    },
    {
      name: 'denies Exists with values',
      object: aVMSet({ spec: { selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['web'] }] } } }),
      lookup: world,
      denied: [{ field: 'spec.selector.matchExpressions[0].values', rule: 'vmset-selector', type: 'FieldValueForbidden' }],
    },
    {
      name: 'allows any update of a VMSet being deleted',
      oldObject: aVMSet({ spec: { selector: { matchLabels: undefined } } }),
      object: aVMSet({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { selector: { matchLabels: undefined }, template: { metadata: { labels: { x: 'y' } } } } }),
      lookup: world,
    },
  ]);
});
