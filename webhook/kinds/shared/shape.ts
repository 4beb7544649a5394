/**
 * Mutating webhooks run before the apiserver checks an object against its schema, so a mutator
 * may see any JSON. These guards let a mutator step aside from a malformed object (the schema
 * check that follows refuses it with its own message) instead of throwing.
 */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value.name` when value is a `{name: string}` reference. */
export function refName(value: unknown): string | undefined {
  return isRecord(value) && typeof value.name === 'string' ? value.name : undefined;
}

/** A label map, or undefined when absent or malformed. */
export function labelsOf(value: unknown): Record<string, string> | undefined {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'string') ? (value as Record<string, string>) : undefined;
}
