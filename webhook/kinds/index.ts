/**
 * The rules the admission server calls, by kind. Validators are pure functions of the admitted
 * object (+ stored object, + cache lookup); mutators are tiny defaulting steps run in the listed
 * order on a copy the server diffs into a JSON patch.
 */
import type { AnyVirtRigaudObject } from '../../api/objects.ts';
import type { Mutator, Validator } from '../framework/types.ts';
import { validateProvider } from './provider/validate-endpoint.ts';
import { labelClass, labelProvider } from './virtualmachine/mutate-labels.ts';
import { fillPlacementFromPolicy } from './virtualmachine/mutate-placement.ts';
import { defaultPowerState } from './virtualmachine/mutate-power-state.ts';
import { validateVirtualMachine } from './virtualmachine/validate-virtual-machine.ts';
import { validateVMClass } from './vmclass/validate-vmclass.ts';
import { validateVMClone } from './vmclone/validate-clone-type.ts';
import { validateVMMigration } from './vmmigration/validate-target.ts';
import { validateVMPlacementPolicy } from './vmplacementpolicy/validate-vmplacementpolicy.ts';
import { defaultTemplatePowerState, labelTemplateClass, labelTemplateProvider } from './vmset/mutate-template.ts';
import { validateVMSet } from './vmset/validate-vmset.ts';
import { validateVMSnapshot } from './vmsnapshot/validate-include-memory.ts';

/** The kinds of infra.virtrigaud.io. */
export type Kind = AnyVirtRigaudObject['kind'];

/** The whole-object type of a kind. */
export type ObjectOfKind<K extends Kind> = Extract<AnyVirtRigaudObject, { kind: K }>;

/** A validator per kind, each typed for its kind's object. */
export type ValidatorTable = { readonly [K in Kind]?: Validator<ObjectOfKind<K>> };

/** The mutators per kind, in the order they run. */
export type MutatorTable = { readonly [K in Kind]?: readonly Mutator<ObjectOfKind<K>>[] };

/** Validators (VMImage and VMNetworkAttachment have none: the CRD schemas cover them). */
export const validators: ValidatorTable = {
  VirtualMachine: validateVirtualMachine,
  VMSet: validateVMSet,
  VMClass: validateVMClass,
  VMPlacementPolicy: validateVMPlacementPolicy,
  Provider: validateProvider,
  VMSnapshot: validateVMSnapshot,
  VMClone: validateVMClone,
  VMMigration: validateVMMigration,
};

/** Mutators, in order. A mutation never changes a value the user set. */
export const mutators: MutatorTable = {
  VirtualMachine: [defaultPowerState, labelProvider, labelClass, fillPlacementFromPolicy],
  VMSet: [defaultTemplatePowerState, labelTemplateProvider, labelTemplateClass],
};

const KIND_NAMES: Readonly<Record<Kind, true>> = {
  Provider: true, VirtualMachine: true, VMClass: true, VMClone: true, VMImage: true,
  VMMigration: true, VMNetworkAttachment: true, VMPlacementPolicy: true, VMSet: true, VMSnapshot: true,
};

/** Every kind, for registration. */
export const KINDS: readonly Kind[] = Object.keys(KIND_NAMES) as Kind[];

export function isKind(kind: string): kind is Kind {
  return Object.prototype.hasOwnProperty.call(KIND_NAMES, kind);
}

/**
 * The validator for a kind named at run time (an AdmissionReview's `request.kind.kind`), or
 * undefined when the kind has none. The caller passes objects of that kind only.
 */
export function validatorFor(kind: string): Validator<AnyVirtRigaudObject> | undefined {
  return isKind(kind) ? (validators[kind] as Validator<AnyVirtRigaudObject> | undefined) : undefined;
}

/** The mutators for a kind named at run time, in order (empty when it has none). */
export function mutatorsFor(kind: string): readonly Mutator<AnyVirtRigaudObject>[] {
  return isKind(kind) ? ((mutators[kind] ?? []) as readonly Mutator<AnyVirtRigaudObject>[]) : [];
}
