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
 */
export function dropBookkeeping(obj: AnyObject): void {
  const m = obj.metadata as { managedFields?: unknown; annotations?: Record<string, string> } | undefined;
  if (!m) return;
  delete m.managedFields;
  if (m.annotations && LAST_APPLIED in m.annotations) {
    const { [LAST_APPLIED]: _dropped, ...rest } = m.annotations;
    m.annotations = rest;
  }
}
