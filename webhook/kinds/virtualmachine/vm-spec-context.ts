/**
 * What the VirtualMachine spec rules see. The same rules check a VirtualMachine's `spec` and a
 * VMSet's `spec.template.spec`; the context carries the path prefix, who is admitted (to skip the
 * object's own VMs in namespace-wide counts) and the referenced objects, looked up once.
 */
import type { VirtualMachineSpec } from '../../../api/kinds/virtual-machine.ts';
import type { Provider, VirtualMachine, VMClass, VMPlacementPolicy, VMSet } from '../../../api/objects.ts';
import { newPath, type FieldPath } from '../../framework/field-path.ts';
import type { Lookup, Operation, ValidationResult } from '../../framework/types.ts';
import { namespaceOf, refNamespace } from '../shared/refs.ts';

/** Who the spec belongs to. */
export type VMSpecSubject =
  | { kind: 'VirtualMachine'; name: string }
  | { kind: 'VMSet'; name: string; replicas: number };

/** A reference resolved to the namespace it points into. */
export interface ResolvedRef {
  namespace: string;
  name: string;
}

/** The referenced objects the rules need; `undefined` when not (yet) in the cache. */
export interface ResolvedRefs {
  providerRef: ResolvedRef;
  provider: Provider | undefined;
  classRef: ResolvedRef;
  vmClass: VMClass | undefined;
  /** placementRef, which is always in the VM's own namespace. */
  policyRef: ResolvedRef | undefined;
  policy: VMPlacementPolicy | undefined;
}

export interface VMSpecContext {
  operation: Operation;
  namespace: string;
  subject: VMSpecSubject;
  /** The VM's labels (a VMSet: its template's labels). */
  labels: Readonly<Record<string, string>>;
  spec: VirtualMachineSpec;
  /** The stored spec on UPDATE. */
  oldSpec: VirtualMachineSpec | undefined;
  /** Where `spec` sits in the admitted object: `spec` or `spec.template.spec`. */
  path: FieldPath;
  lookup: Lookup;
  refs: ResolvedRefs;
}

/** One VM spec rule: a pure function of the context. */
export type VMSpecRule = (ctx: VMSpecContext) => ValidationResult;

export const VM_SPEC_PATH = newPath('spec');
export const VMSET_TEMPLATE_SPEC_PATH = newPath('spec', 'template', 'spec');

/** Looks up the provider, class and placement policy of a spec. */
export function resolveRefs(spec: VirtualMachineSpec, namespace: string, lookup: Lookup): ResolvedRefs {
  const providerRef = { namespace: refNamespace(spec.providerRef, namespace), name: spec.providerRef.name };
  const classRef = { namespace: refNamespace(spec.classRef, namespace), name: spec.classRef.name };
  const policyRef = spec.placementRef ? { namespace, name: spec.placementRef.name } : undefined;
  return {
    providerRef,
    provider: lookup.provider(providerRef.namespace, providerRef.name),
    classRef,
    vmClass: lookup.vmClass(classRef.namespace, classRef.name),
    policyRef,
    policy: policyRef ? lookup.placementPolicy(policyRef.namespace, policyRef.name) : undefined,
  };
}

interface ContextParts {
  operation: Operation;
  namespace: string;
  subject: VMSpecSubject;
  labels: Readonly<Record<string, string>> | undefined;
  spec: VirtualMachineSpec;
  oldSpec: VirtualMachineSpec | undefined;
  path: FieldPath;
  lookup: Lookup;
}

function makeContext(parts: ContextParts): VMSpecContext {
  return { ...parts, labels: parts.labels ?? {}, refs: resolveRefs(parts.spec, parts.namespace, parts.lookup) };
}

/** The context of a VirtualMachine (`oldVM`: the stored version on UPDATE, for the rules that compare versions). */
export function contextOfVM(parts: { operation: Operation; vm: VirtualMachine; oldVM?: VirtualMachine; lookup: Lookup }): VMSpecContext {
  const { vm } = parts;
  return makeContext({
    operation: parts.operation,
    namespace: namespaceOf(vm.metadata),
    subject: { kind: 'VirtualMachine', name: vm.metadata.name ?? '' },
    labels: vm.metadata.labels,
    spec: vm.spec,
    oldSpec: parts.oldVM?.spec,
    path: VM_SPEC_PATH,
    lookup: parts.lookup,
  });
}

/** The context of a VMSet's template. */
export function contextOfVMSet(parts: { operation: Operation; set: VMSet; oldSet?: VMSet; lookup: Lookup }): VMSpecContext {
  const { set } = parts;
  return makeContext({
    operation: parts.operation,
    namespace: namespaceOf(set.metadata),
    subject: { kind: 'VMSet', name: set.metadata.name ?? '', replicas: set.spec.replicas ?? 1 },
    labels: set.spec.template.metadata?.labels,
    spec: set.spec.template.spec,
    oldSpec: parts.oldSet?.spec.template.spec,
    path: VMSET_TEMPLATE_SPEC_PATH,
    lookup: parts.lookup,
  });
}

/** How many VMs the spec makes: 1 for a VirtualMachine, the replicas of a VMSet. */
export function vmCountOf(ctx: VMSpecContext): number {
  return ctx.subject.kind === 'VMSet' ? ctx.subject.replicas : 1;
}

/** Whether an existing VM is the admitted object itself (or, for a VMSet, one of its own VMs). */
export function isOwnVM(ctx: VMSpecContext, vm: VirtualMachine): boolean {
  if (ctx.subject.name === '') return false;
  if (ctx.subject.kind === 'VirtualMachine') return vm.metadata.name === ctx.subject.name;
  const setName = ctx.subject.name;
  return (vm.metadata.ownerReferences ?? []).some((o) => o.kind === 'VMSet' && o.name === setName);
}

/** The other VMs of the namespace (not the admitted one, not a VMSet's own). */
export function otherVMs(ctx: VMSpecContext, namespace: string = ctx.namespace): VirtualMachine[] {
  return ctx.lookup.virtualMachines(namespace).filter((vm) => !(namespace === ctx.namespace && isOwnVM(ctx, vm)));
}

/** The clause of a missing-object warning saying who waits. */
export function waiterOf(ctx: VMSpecContext): string {
  return ctx.subject.kind === 'VMSet' ? "the VMSet's VMs wait for it" : 'the VM waits for it';
}
