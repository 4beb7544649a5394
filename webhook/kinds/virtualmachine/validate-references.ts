/**
 * Referenced objects that are not (yet) in the cache: allowed with a warning naming each, because
 * a folder of manifests applies in name order and the VM simply waits for what it references.
 * The rules that need a missing object skip their checks.
 */
import { missingWarning, refNamespace } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import { waiterOf, type VMSpecRule } from './vm-spec-context.ts';

export const validateReferences: VMSpecRule = (ctx) => {
  const { spec, refs, lookup, namespace } = ctx;
  const waiter = waiterOf(ctx);
  const warnings: string[] = [];
  if (!refs.provider) warnings.push(missingWarning('Provider', refs.providerRef.namespace, refs.providerRef.name, waiter));
  if (!refs.vmClass) warnings.push(missingWarning('VMClass', refs.classRef.namespace, refs.classRef.name, waiter));
  if (spec.imageRef) {
    const ns = refNamespace(spec.imageRef, namespace);
    if (!lookup.vmImage(ns, spec.imageRef.name)) warnings.push(missingWarning('VMImage', ns, spec.imageRef.name, waiter));
  }
  for (const network of spec.networks ?? []) {
    if (!network.networkRef) continue;
    const ns = refNamespace(network.networkRef, namespace);
    if (!lookup.network(ns, network.networkRef.name)) {
      warnings.push(missingWarning('VMNetworkAttachment', ns, network.networkRef.name, waiter));
    }
  }
  if (refs.policyRef && !refs.policy) {
    warnings.push(missingWarning('VMPlacementPolicy', refs.policyRef.namespace, refs.policyRef.name, waiter));
  }
  return result({ warnings });
};
