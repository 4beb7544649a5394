/**
 * Kubernetes resource quantities ("4Gi", "512Mi", "4G", "1.5Gi", 4294967296) as whole MiB.
 * Like the original, a value is rounded up to whole bytes and then down to whole MiB.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;
const MIB = 2 ** 20;

/** Bytes of a quantity, or undefined when it is not one. */
export function quantityBytes(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.ceil(value) : undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2];
  let factor = 1;
  if (suffix !== undefined) factor = BINARY[suffix] ?? DECIMAL[suffix] ?? 1;
  else if (m[3] !== undefined) factor = 10 ** Number(m[3]);
  return Math.ceil(n * factor);
}

/** Whole MiB of a memory quantity, or undefined when it is not a quantity. */
export function quantityToMiB(value: number | string): number | undefined {
  const bytes = quantityBytes(value);
  return bytes === undefined ? undefined : Math.floor(bytes / MIB);
}
