/**
 * Labels virtrigaud.io/provider and virtrigaud.io/class from the refs, so `kubectl get vm -l`
 * can select by them. A label the user set is never changed; a label that only mirrored the
 * stored ref follows the ref when it changes (the class can change; providerRef is immutable).
 */
import { LABEL_CLASS, LABEL_PROVIDER, type VirtualMachine } from '../../../api/objects.ts';
import type { Mutator } from '../../framework/types.ts';
import { isRecord, labelsOf, refName } from '../shared/shape.ts';
import { isWrite } from './mutate-power-state.ts';

/** A label value: at most 63 characters, alphanumeric at both ends, `-_.` inside. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const MAX_LABEL_VALUE_LENGTH = 63;

export function isLabelValue(value: string): boolean {
  return value.length <= MAX_LABEL_VALUE_LENGTH && LABEL_VALUE.test(value);
}

/** Anything that carries labels (ObjectMeta, a template's metadata). */
export interface LabelHolder {
  labels?: Record<string, string>;
}

/** What the stored object had, on UPDATE. */
export interface StoredLabel {
  label: string | undefined;
  ref: string | undefined;
}

/**
 * Sets `key` to `value` when the label is unset, or when it still mirrors the stored object's
 * ref and the ref changed. A value that cannot be a label value (a name over 63 characters) is
 * left out rather than refused.
 */
export function defaultRefLabel(holder: LabelHolder, key: string, value: string | undefined, stored?: StoredLabel): boolean {
  if (value === undefined || !isLabelValue(value)) return false;
  if (holder.labels !== undefined && !labelsOf(holder.labels)) return false;
  const current = holder.labels?.[key];
  const mirrorsStoredRef = stored !== undefined && stored.label !== undefined && current === stored.label && stored.label === stored.ref;
  if (current !== undefined && !(mirrorsStoredRef && current !== value)) return false;
  holder.labels = { ...holder.labels, [key]: value };
  return true;
}

function labelFromRef(vm: VirtualMachine, stored: VirtualMachine | undefined, key: string, ref: 'providerRef' | 'classRef'): boolean {
  if (!isRecord(vm.metadata) || !isRecord(vm.spec)) return false;
  return defaultRefLabel(vm.metadata, key, refName(vm.spec[ref]),
    stored && { label: labelsOf(stored.metadata?.labels)?.[key], ref: refName(stored.spec?.[ref]) });
}

export const labelProvider: Mutator<VirtualMachine> = ({ operation, object, oldObject }) =>
  isWrite(operation) && labelFromRef(object, oldObject, LABEL_PROVIDER, 'providerRef');

export const labelClass: Mutator<VirtualMachine> = ({ operation, object, oldObject }) =>
  isWrite(operation) && labelFromRef(object, oldObject, LABEL_CLASS, 'classRef');
