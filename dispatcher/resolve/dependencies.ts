/**
 * What a VM's desired state is made from, as index keys (`<Kind>/<namespace>/<name>`): when one
 * of these appears or changes, the VMs that name it are reconciled again.
 */
import type { VirtualMachine } from '../../api/objects.ts';

export type DependencyKind = 'Provider' | 'VMClass' | 'VMImage' | 'VMNetworkAttachment' | 'Secret';

export const dependencyKey = (kind: DependencyKind, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

export function dependenciesOf(vm: VirtualMachine): string[] {
  const ns = vm.metadata.namespace ?? '';
  const s = vm.spec;
  const keys = new Set<string>();
  keys.add(dependencyKey('Provider', s.providerRef.namespace ?? ns, s.providerRef.name));
  keys.add(dependencyKey('VMClass', s.classRef.namespace ?? ns, s.classRef.name));
  if (s.imageRef) keys.add(dependencyKey('VMImage', s.imageRef.namespace ?? ns, s.imageRef.name));
  for (const n of s.networks ?? []) {
    if (n.networkRef) keys.add(dependencyKey('VMNetworkAttachment', n.networkRef.namespace ?? ns, n.networkRef.name));
  }
  for (const ref of [s.userData?.cloudInit?.secretRef, s.userData?.ignition?.secretRef, s.metaData?.cloudInit?.secretRef]) {
    if (ref) keys.add(dependencyKey('Secret', ns, ref.name));
  }
  return [...keys];
}
