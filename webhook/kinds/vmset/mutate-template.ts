/**
 * The VirtualMachine defaults that apply to a VMSet's template: powerState and the ref labels.
 * Placement is not filled here: each VM the set creates is admitted as a VirtualMachine and gets
 * its own placement then, counted against the VMs that exist at that moment.
 */
import { LABEL_CLASS, LABEL_PROVIDER, type VMSet } from '../../../api/objects.ts';
import type { Mutator } from '../../framework/types.ts';
import { isRecord, labelsOf, refName } from '../shared/shape.ts';
import { defaultRefLabel, type LabelHolder } from '../virtualmachine/mutate-labels.ts';
import { defaultSpecPowerState, isWrite } from '../virtualmachine/mutate-power-state.ts';

/** The template of a well-formed VMSet, or undefined. */
function templateOf(set: VMSet | undefined): VMSet['spec']['template'] | undefined {
  const template: unknown = isRecord(set?.spec) ? set.spec.template : undefined;
  return isRecord(template) && isRecord(template.spec) ? (template as VMSet['spec']['template']) : undefined;
}

export const defaultTemplatePowerState: Mutator<VMSet> = ({ operation, object }) =>
  isWrite(operation) && defaultSpecPowerState(templateOf(object)?.spec);

function labelTemplate(set: VMSet, stored: VMSet | undefined, key: string, ref: 'providerRef' | 'classRef'): boolean {
  const template = templateOf(set);
  if (!template || (template.metadata !== undefined && !isRecord(template.metadata))) return false;
  const storedTemplate = templateOf(stored);
  const meta: LabelHolder = { ...template.metadata };
  const changed = defaultRefLabel(meta, key, refName(template.spec[ref]),
    storedTemplate && { label: labelsOf(storedTemplate.metadata?.labels)?.[key], ref: refName(storedTemplate.spec[ref]) });
  if (changed) template.metadata = { ...template.metadata, labels: meta.labels };
  return changed;
}

export const labelTemplateProvider: Mutator<VMSet> = ({ operation, object, oldObject }) =>
  isWrite(operation) && labelTemplate(object, oldObject, LABEL_PROVIDER, 'providerRef');

export const labelTemplateClass: Mutator<VMSet> = ({ operation, object, oldObject }) =>
  isWrite(operation) && labelTemplate(object, oldObject, LABEL_CLASS, 'classRef');
