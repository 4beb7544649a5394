/**
 * Adds and removes the VM finalizer with a merge patch conditional on resourceVersion (a
 * concurrent change to metadata.finalizers by someone else is never overwritten); a conflict
 * re-reads the VM and tries again.
 */
import { FINALIZER_VM, type VirtualMachine } from '../../api/objects.ts';
import { isConflict, isNotFound, StatusConflictError } from '../errors.ts';
import type { KubeApi } from '../k8s/kube-api.ts';
import { objectKey } from '../k8s/object-key.ts';

const MAX_ATTEMPTS = 5;

export type FinalizerOutcome = 'changed' | 'unchanged' | 'gone';

async function change(
  api: Pick<KubeApi, 'getVM' | 'patchVM'>,
  vm: VirtualMachine,
  edit: (finalizers: string[]) => string[] | undefined,
): Promise<FinalizerOutcome> {
  let current: VirtualMachine | undefined = vm;
  const namespace = vm.metadata.namespace ?? '';
  const name = vm.metadata.name ?? '';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1) current = await api.getVM(namespace, name);
    if (!current || current.metadata.uid !== vm.metadata.uid) return 'gone';
    const next = edit([...(current.metadata.finalizers ?? [])]);
    if (!next) return 'unchanged';
    try {
      await api.patchVM(namespace, name, { metadata: { resourceVersion: current.metadata.resourceVersion, finalizers: next } });
      return 'changed';
    } catch (err) {
      if (isNotFound(err)) return 'gone';
      if (!isConflict(err)) throw err;
    }
  }
  throw new StatusConflictError(objectKey(vm), MAX_ATTEMPTS);
}

export function addFinalizer(api: Pick<KubeApi, 'getVM' | 'patchVM'>, vm: VirtualMachine): Promise<FinalizerOutcome> {
  return change(api, vm, (f) => (f.includes(FINALIZER_VM) ? undefined : [...f, FINALIZER_VM]));
}

export function removeFinalizer(api: Pick<KubeApi, 'getVM' | 'patchVM'>, vm: VirtualMachine): Promise<FinalizerOutcome> {
  return change(api, vm, (f) => (f.includes(FINALIZER_VM) ? f.filter((x) => x !== FINALIZER_VM) : undefined));
}
