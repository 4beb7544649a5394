/**
 * snapshotConfig.includeMemory needs a provider whose hypervisor can snapshot guest memory.
 * The VM or its Provider not (yet) in the cache: allowed with a warning, unchecked.
 */
import { capabilitiesOf, providerTypesSupporting, type ProviderType } from '../../../api/capabilities.ts';
import type { VMSnapshot } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { joinOr } from '../shared/capability-text.ts';
import { describeObject, missingWarning, namespaceOf } from '../shared/refs.ts';
import { allowed, result, ratcheted } from '../shared/result.ts';
import { vmAndProvider } from '../shared/vm-provider.ts';

const errors = ruleErrors('snapshot-memory-support');
const WAITER = 'the snapshot waits for it (its memory support is not checked)';

export const MESSAGE_NO_MEMORY_SNAPSHOTS = (provider: string, type: ProviderType): string => {
  const others = providerTypesSupporting({ kind: 'feature', feature: 'memorySnapshots' }).filter((t) => t !== type);
  return `${provider} of type ${type} cannot snapshot a VM's memory: set includeMemory to false for a disk-only snapshot`
    + (others.length > 0 ? ` (memory snapshots need a Provider of type ${joinOr(others)})` : '');
};

const validateIncludeMemory: Validator<VMSnapshot> = ({ operation, object, lookup }) => {
  if ((operation !== 'CREATE' && operation !== 'UPDATE') || !object.spec.snapshotConfig?.includeMemory) return allowed();
  const namespace = namespaceOf(object.metadata);
  const { vm, providerRef, provider } = vmAndProvider(lookup, namespace, object.spec.vmRef.name);
  if (!vm || !providerRef) return result({ warnings: [missingWarning('VirtualMachine', namespace, object.spec.vmRef.name, WAITER)] });
  if (!provider) return result({ warnings: [missingWarning('Provider', providerRef.namespace, providerRef.name, WAITER)] });
  if (capabilitiesOf(provider.spec.type).memorySnapshots) return allowed();
  const name = describeObject('Provider', providerRef.namespace, providerRef.name);
  return result({
    errors: [errors.notSupported(newPath('spec', 'snapshotConfig', 'includeMemory'),
      MESSAGE_NO_MEMORY_SNAPSHOTS(name, provider.spec.type))],
  });
};

export const validateVMSnapshot: Validator<VMSnapshot> = ratcheted(validateIncludeMemory);
