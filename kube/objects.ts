/** The little the informer needs to know about Kubernetes objects and lists. */

/**
 * Any Kubernetes object as JSON: only namespace and name matter here. Our kinds keep timestamps
 * as strings, unlike client-node's typed models; both fit.
 */
export type AnyObject = { metadata?: { name?: string; namespace?: string } };

/** A list response as the apiserver sends it. */
export interface ObjectList<T> {
  items?: T[];
  metadata?: { resourceVersion?: string };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what a cache never reads and what makes up most of a stored object's size: the server's
 * field-ownership bookkeeping (managedFields) and kubectl's copy of the last applied manifest.
 * Used as an informer transform, so the memory of a cache grows with what we use, not with history.
 * The metadata is rebuilt rather than `delete`d from: deleting a property turns a V8 object into a
 * hash table, several times larger, for every cached object.
 */
export function dropBookkeeping<T extends AnyObject>(obj: T): T {
  const m = obj.metadata as { managedFields?: unknown; annotations?: Record<string, string> } | undefined;
  if (!m) return obj;
  const lastApplied = m.annotations !== undefined && LAST_APPLIED in m.annotations;
  if (m.managedFields === undefined && !lastApplied) return obj;
  const { managedFields: _fields, ...metadata } = m;
  if (lastApplied) {
    const { [LAST_APPLIED]: _dropped, ...annotations } = m.annotations!;
    metadata.annotations = annotations;
  }
  obj.metadata = metadata as T['metadata'];
  return obj;
}
