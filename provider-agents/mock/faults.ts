/**
 * Configurable failures of the mock hypervisor, for tests and benchmarks only. A rule matches calls
 * of one operation (optionally for one uid): it lets `after` matching calls through, then fails the
 * next `times` (default 1; -1 for ever). `when: 'after'` fails once the operation has taken effect
 * (a lost answer: the VM exists but the caller saw an error).
 */
import { PermanentError, TransientError } from '../core/errors.ts';

export const MOCK_OPS = [
  'find', 'create', 'reconfigure', 'setPower', 'destroy', 'adopt', 'release',
  'snapshotCreate', 'snapshotRevert', 'snapshotDelete', 'clone', 'validate', 'recordGeneration',
] as const;
export type MockOp = (typeof MOCK_OPS)[number];

export interface MockFault {
  op: MockOp;
  uid?: string;
  after?: number;
  times?: number;
  kind?: 'transient' | 'permanent';
  when?: 'before' | 'after';
}

export class FaultPlan {
  private readonly seen = new Map<MockFault, number>();

  constructor(private readonly rules: readonly MockFault[]) {}

  /** Throws when a rule says this call fails at this point. */
  check(op: MockOp, uid: string | undefined, when: 'before' | 'after'): void {
    for (const rule of this.rules) {
      if (rule.op !== op || (rule.when ?? 'before') !== when) continue;
      if (rule.uid !== undefined && rule.uid !== uid) continue;
      const n = (this.seen.get(rule) ?? 0) + 1;
      this.seen.set(rule, n);
      const after = rule.after ?? 0;
      const times = rule.times ?? 1;
      if (n > after && (times < 0 || n <= after + times)) {
        const what = `mock fault: ${op}${uid ? ` of ${uid}` : ''} failed (call ${n}${when === 'after' ? ', after taking effect' : ''})`;
        throw rule.kind === 'permanent' ? new PermanentError(what, { reason: 'MockFault' }) : new TransientError(what, { reason: 'ProviderUnreachable' });
      }
    }
  }
}

/** Parses a fault list from JSON (MOCK_FAULTS), listing every problem. */
export function parseFaults(json: string): { faults: MockFault[]; problems: string[] } {
  const problems: string[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return { faults: [], problems: [`MOCK_FAULTS must be a JSON array, got invalid JSON: ${(err as Error).message}`] };
  }
  if (!Array.isArray(raw)) return { faults: [], problems: ['MOCK_FAULTS must be a JSON array of rules'] };
  const faults: MockFault[] = [];
  raw.forEach((r: unknown, i) => {
    const at = `MOCK_FAULTS[${i}]`;
    if (!r || typeof r !== 'object') return void problems.push(`${at} must be an object`);
    const o = r as Record<string, unknown>;
    if (!(MOCK_OPS as readonly unknown[]).includes(o.op)) return void problems.push(`${at}.op must be one of ${MOCK_OPS.join(', ')}, got ${JSON.stringify(o.op)}`);
    for (const k of ['after', 'times'] as const) {
      if (o[k] !== undefined && !Number.isInteger(o[k])) problems.push(`${at}.${k} must be a whole number, got ${JSON.stringify(o[k])}`);
    }
    if (o.uid !== undefined && typeof o.uid !== 'string') problems.push(`${at}.uid must be a string`);
    if (o.kind !== undefined && o.kind !== 'transient' && o.kind !== 'permanent') problems.push(`${at}.kind must be transient or permanent`);
    if (o.when !== undefined && o.when !== 'before' && o.when !== 'after') problems.push(`${at}.when must be before or after`);
    faults.push(o as unknown as MockFault);
  });
  return { faults, problems };
}
