/**
 * The contract between the admission server (webhook/server) and the rules (webhook/kinds).
 * Rules are pure functions: object (+ old object on update) + a lookup backed by informer caches
 * in, field errors and warnings out. They never do I/O.
 */
import type {
  AnyVirtRigaudObject, Provider, VirtualMachine, VMClass, VMImage, VMNetworkAttachment, VMPlacementPolicy,
} from '../../api/objects.ts';

/** Kubernetes' field.ErrorType values, as they appear in a denial's causes. */
export type FieldErrorType = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueNotSupported';

export interface FieldError {
  /** Path as Kubernetes prints it: `spec.disks[1].sizeGiB`. Build with FieldPath. */
  field: string;
  type: FieldErrorType;
  /** What was wrong and what would be accepted. A named constant or built by one. */
  message: string;
  /** Name of the rule, for the `denials by rule` metric (e.g. `class-resource-limits`). */
  rule: string;
}

export interface ValidationResult {
  errors: FieldError[];
  /** Admission warnings (kubectl prints them), e.g. a referenced VMClass that does not exist yet. */
  warnings: string[];
}

/**
 * Read-only view of the informer caches. Every method answers from memory; `undefined` means
 * the object is not (yet) in the cache.
 */
export interface Lookup {
  provider(namespace: string, name: string): Provider | undefined;
  vmClass(namespace: string, name: string): VMClass | undefined;
  vmImage(namespace: string, name: string): VMImage | undefined;
  network(namespace: string, name: string): VMNetworkAttachment | undefined;
  placementPolicy(namespace: string, name: string): VMPlacementPolicy | undefined;
  /** VirtualMachines of a namespace (for IP conflicts, anti-affinity, maxVMsPer* counts, in-use checks). */
  virtualMachines(namespace: string): readonly VirtualMachine[];
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface ValidateInput<T extends AnyVirtRigaudObject> {
  operation: Operation;
  /** The object being admitted (on DELETE: the object being deleted). */
  object: T;
  /** The stored object on UPDATE and DELETE. */
  oldObject?: T;
  lookup: Lookup;
}

export type Validator<T extends AnyVirtRigaudObject> = (input: ValidateInput<T>) => ValidationResult;

export interface MutateInput<T extends AnyVirtRigaudObject> {
  operation: Operation;
  /** A deep copy the mutator may change in place; the server diffs it against the original. */
  object: T;
  oldObject?: T;
  lookup: Lookup;
}

/** One tiny defaulting step; returns true when it changed the object. Runs in a fixed order. */
export type Mutator<T extends AnyVirtRigaudObject> = (input: MutateInput<T>) => boolean;
