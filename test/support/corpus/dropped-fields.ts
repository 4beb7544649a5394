/**
 * Fields of one stored object that another lost or changed. An apiserver prunes what its schema
 * does not declare (below fields-less objects even server-side apply lets it through), so an
 * object both servers accept may still be stored differently: different data, or other defaults.
 */

/** Concrete paths (`spec.disks[0].name`, `spec.tags["a"]`) of scalars of `reference` missing or different in `other`. */
export function droppedFields(reference: unknown, other: unknown, path = 'spec'): string[] {
  if (Array.isArray(reference)) {
    if (!Array.isArray(other)) return [path];
    return reference.flatMap((v, i) => droppedFields(v, other[i], `${path}[${i}]`));
  }
  if (typeof reference === 'object' && reference !== null) {
    if (typeof other !== 'object' || other === null || Array.isArray(other)) return [path];
    const kept = other as Record<string, unknown>;
    return Object.entries(reference).flatMap(([k, v]) => (k in kept ? droppedFields(v, kept[k], childPath(path, k)) : [childPath(path, k)]));
  }
  return reference === other ? [] : [path];
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
