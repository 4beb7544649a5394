/** From a VM name to the VM and its Provider, for kinds that act on an existing VM. */
import type { Provider, VirtualMachine } from '../../../api/objects.ts';
import type { Lookup } from '../../framework/types.ts';
import { refNamespace } from './refs.ts';

export interface VMAndProvider {
  vm: VirtualMachine | undefined;
  /** The VM's providerRef, resolved; unknown while the VM is. */
  providerRef: { namespace: string; name: string } | undefined;
  provider: Provider | undefined;
}

export function vmAndProvider(lookup: Lookup, namespace: string, vmName: string): VMAndProvider {
  const vm = lookup.virtualMachines(namespace).find((v) => v.metadata.name === vmName);
  if (!vm) return { vm, providerRef: undefined, provider: undefined };
  const providerRef = { namespace: refNamespace(vm.spec.providerRef, namespace), name: vm.spec.providerRef.name };
  return { vm, providerRef, provider: lookup.provider(providerRef.namespace, providerRef.name) };
}
