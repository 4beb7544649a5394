/**
 * A migration goes somewhere else: to another provider, or to a VM of another name or namespace.
 * Migrating a VM onto the provider it runs on under its own name would do nothing but harm.
 * The source provider is source.providerRef, or else the source VM's; unknown: a warning.
 */
import type { VMMigration } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { describeObject, missingWarning, namespaceOf, refNamespace, sameRef } from '../shared/refs.ts';
import { allowed, ratcheted, result } from '../shared/result.ts';
import { vmAndProvider } from '../shared/vm-provider.ts';

const errors = ruleErrors('migration-target');
const WAITER = 'the migration waits for it (its target is not checked)';

export const MESSAGE_SAME_PLACE = (vm: string, provider: string): string =>
  `${provider} already runs ${vm}: migrate it to another provider (spec.target.providerRef), or to a VM of another name (spec.target.name)`;

const validateMigrationTarget: Validator<VMMigration> = ({ operation, object, lookup }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  const namespace = namespaceOf(object.metadata);
  const { source, target } = object.spec;
  const targetNamespace = target.namespace ?? namespace;
  if (target.name !== source.vmRef.name || targetNamespace !== namespace) return allowed();
  const sourceRef = source.providerRef
    ? { namespace: refNamespace(source.providerRef, namespace), name: source.providerRef.name }
    : vmAndProvider(lookup, namespace, source.vmRef.name).providerRef;
  if (!sourceRef) return result({ warnings: [missingWarning('VirtualMachine', namespace, source.vmRef.name, WAITER)] });
  const targetRef = { namespace: refNamespace(target.providerRef, namespace), name: target.providerRef.name };
  if (!sameRef(sourceRef, targetRef)) return allowed();
  return result({
    errors: [errors.forbidden(newPath('spec', 'target', 'providerRef'),
      MESSAGE_SAME_PLACE(describeObject('VirtualMachine', namespace, source.vmRef.name), describeObject('Provider', targetRef.namespace, targetRef.name)))],
  });
};

export const validateVMMigration: Validator<VMMigration> = ratcheted(validateMigrationTarget);
