/**
 * The mock hypervisor's knobs, from the agent's environment (only read when AGENT_PROVIDER_TYPE is
 * mock). Pure; every problem listed at once.
 *   MOCK_DELAY_MS            delay of every operation (ms, default 0)
 *   MOCK_DELAY_<OP>_MS       delay of one operation, e.g. MOCK_DELAY_CREATE_MS, MOCK_DELAY_SETPOWER_MS
 *   MOCK_FAULTS              JSON list of fault rules (faults.ts), e.g. [{"op":"create","after":1}]
 *   MOCK_DETECT_OVERLAPS     true: record two operations on one VM at once
 */
import { ConfigError } from '../core/config.ts';
import { MOCK_OPS, parseFaults, type MockFault, type MockOp } from './faults.ts';

export interface MockConfig {
  defaultDelayMs: number;
  delaysMs: Partial<Record<MockOp, number>>;
  faults: MockFault[];
  detectOverlaps: boolean;
}

type Env = Record<string, string | undefined>;

export function loadMockConfig(env: Env): MockConfig {
  const problems: string[] = [];
  const ms = (name: string): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) > 3_600_000) {
      problems.push(`${name} must be a whole number of milliseconds up to 3600000, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    return Number(raw);
  };
  const delaysMs: Partial<Record<MockOp, number>> = {};
  for (const op of MOCK_OPS) {
    const v = ms(`MOCK_DELAY_${op.toUpperCase()}_MS`);
    if (v !== undefined) delaysMs[op] = v;
  }
  const { faults, problems: faultProblems } = env.MOCK_FAULTS ? parseFaults(env.MOCK_FAULTS) : { faults: [], problems: [] };
  problems.push(...faultProblems);
  const overlaps = env.MOCK_DETECT_OVERLAPS?.trim();
  if (overlaps !== undefined && overlaps !== '' && overlaps !== 'true' && overlaps !== 'false') {
    problems.push(`MOCK_DETECT_OVERLAPS must be true or false, got ${JSON.stringify(overlaps)}`);
  }
  const config: MockConfig = { defaultDelayMs: ms('MOCK_DELAY_MS') ?? 0, delaysMs, faults, detectOverlaps: overlaps === 'true' };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
