/**
 * Deleting an object VMs still use: the VMs that refer to it, from the namespace's cache.
 * VMs already being deleted do not count (deleting a folder of manifests deletes both at once).
 * Only the object's own namespace is searched: the Lookup lists VMs per namespace.
 */
import type { VirtualMachine } from '../../../api/objects.ts';
import type { FieldError, Lookup } from '../../framework/types.ts';
import { newPath } from '../../framework/field-path.ts';
import type { RuleErrors } from '../../framework/field-path.ts';
import { countOf, listNames } from './name-list.ts';

export const MESSAGE_IN_USE = (what: string, users: readonly string[], remedy: string): string =>
  `${what} is used by ${countOf(users.length, 'VM')}: ${listNames(users)}; ${remedy} first`;

/** Names of the live VMs of a namespace that `uses` selects. */
export function vmsUsing(lookup: Lookup, namespace: string, uses: (vm: VirtualMachine) => boolean): string[] {
  return lookup.virtualMachines(namespace)
    .filter((vm) => vm.metadata.deletionTimestamp === undefined && uses(vm))
    .map((vm) => vm.metadata.name ?? '');
}

/** The refusal of a DELETE while VMs use the object, or none. */
export function inUseErrors(p: { errors: RuleErrors; what: string; users: readonly string[]; remedy: string }): FieldError[] {
  return p.users.length === 0 ? [] : [p.errors.forbidden(newPath('metadata', 'name'), MESSAGE_IN_USE(p.what, p.users, p.remedy))];
}
