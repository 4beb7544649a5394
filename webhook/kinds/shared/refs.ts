/** References between objects: their namespaces, how messages name them, and missing-object warnings. */
import type { ObjectMeta } from '../../../api/objects.ts';

/** The namespace of an admitted object (the apiserver fills it from the request before admission). */
export function namespaceOf(meta: ObjectMeta | undefined): string {
  return meta?.namespace ?? '';
}

/** A reference's namespace: its own, or the referring object's. */
export function refNamespace(ref: { namespace?: string }, referrerNamespace: string): string {
  return ref.namespace !== undefined && ref.namespace !== '' ? ref.namespace : referrerNamespace;
}

/** How messages name an object: `VMClass default/small`. */
export function describeObject(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name}`;
}

/**
 * The warning for a referenced object not (yet) in the cache (objects in a folder apply in name
 * order): `VMClass default/small not found; the VM waits for it`. `waits` is that last clause.
 */
export function missingWarning(kind: string, namespace: string, name: string, waits: string): string {
  return `${describeObject(kind, namespace, name)} not found; ${waits}`;
}

/** Two references to the same object. */
export function sameRef(a: { namespace: string; name: string }, b: { namespace: string; name: string }): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}
