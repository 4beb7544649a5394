/** Latency and throughput summaries shared by the benchmarks. */

export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const i = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, i)]!;
}

export interface PhaseResult {
  name: string;
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight, timing each. */
export async function runPhase(
  name: string,
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: unknown;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const s = performance.now();
      try {
        await task(i);
        latencies.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  if (firstError) console.error(`${name}: ${errors} errors, first: ${String(firstError)}`);
  latencies.sort((a, b) => a - b);
  return {
    name, count, seconds, errors,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

export function formatPhase(r: PhaseResult): string {
  return `${r.name.padEnd(16)} ${String(r.count).padStart(6)} ops in ${r.seconds.toFixed(2)} s  ` +
    `${r.perSecond.toFixed(0).padStart(6)}/s  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms` +
    (r.errors ? `  errors ${r.errors}` : '');
}
