/**
 * The Proxmox agent's settings, from its environment (only read when AGENT_PROVIDER_TYPE is
 * proxmox). Pure; every problem listed at once. The endpoint, credentials and TLS trust come from
 * core/connection.ts (the Provider's endpoint and credential Secret).
 *   PROXMOX_VMID_RANGE            VMIDs new VMs take, "min-max" (default 100000-999999)
 *   PROXMOX_BRIDGE                bridge for networks that name none (default vmbr0)
 *   PROXMOX_TASK_POLL_MS          first task status poll interval (default 200)
 *   PROXMOX_LOCK_RETRY_BUDGET_S   how long a call refused by a VM lock is retried (default 60)
 *   PROXMOX_CONNECTIONS           sockets kept open to the API (default 16)
 */
import { ConfigError, type AgentConfig } from '../core/config.ts';
import { loadConnection } from '../core/connection.ts';
import type { Logger } from '../core/log.ts';
import { ProxmoxDriver, type ProxmoxDriverOptions } from './driver.ts';

type Env = Record<string, string | undefined>;

export type ProxmoxSettings = Pick<ProxmoxDriverOptions, 'vmidRange' | 'bridge' | 'taskWait' | 'lockRetry' | 'connections'>;

export function loadProxmoxSettings(env: Env): ProxmoxSettings {
  const problems: string[] = [];
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    return Number(raw);
  };
  const out: ProxmoxSettings = {};
  const range = env.PROXMOX_VMID_RANGE?.trim();
  if (range) {
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(range);
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (!m || min < 100 || max > 999_999_999 || max - min < 99) {
      problems.push(`PROXMOX_VMID_RANGE must be "min-max" within 100-999999999 spanning at least 100 ids, got ${JSON.stringify(range)}`);
    } else out.vmidRange = { min, max };
  }
  const bridge = env.PROXMOX_BRIDGE?.trim();
  if (bridge) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(bridge)) problems.push(`PROXMOX_BRIDGE must be a bridge name, got ${JSON.stringify(bridge)}`);
    else out.bridge = bridge;
  }
  const poll = int('PROXMOX_TASK_POLL_MS', 10, 60_000);
  if (poll !== undefined) out.taskWait = { pollMs: poll };
  const budget = int('PROXMOX_LOCK_RETRY_BUDGET_S', 0, 3600);
  if (budget !== undefined) out.lockRetry = { budgetMs: budget * 1000 };
  const connections = int('PROXMOX_CONNECTIONS', 1, 256);
  if (connections !== undefined) out.connections = connections;
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** The driver for an agent process: the Provider's endpoint and credentials, plus the settings above. */
export async function openProxmoxDriver(_config: AgentConfig, env: Env, log?: Logger): Promise<ProxmoxDriver> {
  const connection = loadConnection(env, { endpointRequired: true });
  const settings = loadProxmoxSettings(env);
  try {
    return new ProxmoxDriver({ ...connection, ...settings, ...(log ? { log } : {}) });
  } catch (err) {
    // A credential Secret without usable keys, or a malformed endpoint or thumbprint.
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([(err as Error).message]);
  }
}
