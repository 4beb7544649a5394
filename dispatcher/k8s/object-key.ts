/** Work-queue keys: `<namespace>/<name>` (names and namespaces never contain a slash). */

export interface ObjectKey {
  namespace: string;
  name: string;
}

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return keyOf(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
}

export function parseKey(key: string): ObjectKey {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
