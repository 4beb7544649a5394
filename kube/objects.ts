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
