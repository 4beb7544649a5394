/** Naming a few of many objects in a message. */

/** How many names a message lists before "and N more". */
export const MAX_NAMES_LISTED = 5;

/** `a, b, c, d, e and 2 more`; `a and b`; `a`. Sorted, so the message is stable. */
export function listNames(names: readonly string[], max: number = MAX_NAMES_LISTED): string {
  const sorted = [...names].sort();
  if (sorted.length <= max) {
    if (sorted.length <= 1) return sorted.join('');
    return `${sorted.slice(0, -1).join(', ')} and ${sorted[sorted.length - 1]}`;
  }
  return `${sorted.slice(0, max).join(', ')} and ${sorted.length - max} more`;
}

/** `1 VM` / `7 VMs`. */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
