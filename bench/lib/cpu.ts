/**
 * CPU accounting for the benchmarks (Linux /proc; NaN elsewhere): seconds used per process, and
 * the machine's busy time no process of the benchmark used (another job on the machine, which
 * makes a run unfit to judge). On a 2-core machine that is the first thing to check.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; NaN when unreadable. */
export function processCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds the whole machine has been busy (all cores; idle and iowait excluded). */
export function machineBusy(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds so far: `bench` (this process), each named pid, and `machine`. */
export type CpuSnapshot = Record<string, number>;

export function cpuSnapshot(pids: Record<string, number>): CpuSnapshot {
  const out: CpuSnapshot = { bench: selfCpu(), machine: machineBusy() };
  for (const [name, pid] of Object.entries(pids)) out[name] = processCpu(pid);
  return out;
}

/** CPU seconds per process between two snapshots, plus `others`: busy time of processes not named. */
export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = {};
  for (const name of Object.keys(after)) if (name !== 'machine') used[name] = after[name]! - (before[name] ?? 0);
  const ours = Object.values(used).reduce((a, b) => a + b, 0);
  used.others = Math.max(0, after.machine! - before.machine! - ours);
  return used;
}

/** `0.52 0.61 0.70` (1, 5 and 15 minutes), as uptime prints it. */
export function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}
