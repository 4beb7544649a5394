/** Kubernetes resource quantities ("4Gi", "512Mi", "8G", 1073741824) as numbers. */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?[0-9]+))?$/;

/** The value of a quantity in base units (bytes for memory), or undefined when it is not a quantity. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  if (m[2] !== undefined) return value * (BINARY[m[2]] ?? 1);
  if (m[3] !== undefined) return value * (DECIMAL[m[3]] ?? 1);
  if (m[4] !== undefined) return value * 10 ** Number(m[4]);
  return value;
}

const MIB = 2 ** 20;

/** A memory quantity in MiB (fractional if it is not a whole number of MiB). */
export function quantityToMiB(q: string | number | undefined): number | undefined {
  const bytes = parseQuantity(q);
  return bytes === undefined ? undefined : bytes / MIB;
}

/** MiB for messages: `4096 MiB`, `1.5 MiB`. */
export function formatMiB(mib: number): string {
  return `${Math.round(mib * 100) / 100} MiB`;
}
