/**
 * Which driver serves which provider type. Each hypervisor folder exports one opener; this table
 * is the only place that knows them all (main.ts and the tests open drivers through it).
 */
import type { AgentConfig, ProviderType } from './core/config.ts';
import { ConfigError } from './core/config.ts';
import type { Driver } from './core/driver.ts';
import { loadNatsAuth } from './core/nats-auth.ts';
import { MockDriver } from './mock/driver.ts';
import { openLibvirtDriver } from './libvirt/index.ts';
import { loadMockConfig } from './mock/config.ts';
import { openProxmoxDriver } from './proxmox/config.ts';
import { openVSphereDriver } from './vsphere/index.ts';

export type Env = Record<string, string | undefined>;
/** Opens a connected driver from the agent's configuration and environment; throws ConfigError on bad settings. */
export type DriverOpener = (config: AgentConfig, env: Env) => Promise<Driver>;

export const DRIVER_OPENERS: Partial<Record<ProviderType, DriverOpener>> = {
  mock: (config, env) => MockDriver.open({ natsServers: config.natsServers, natsAuth: loadNatsAuth(env), provider: config.provider, actor: config.agentId, ...loadMockConfig(env) }),
  libvirt: openLibvirtDriver,
  proxmox: (config, env) => openProxmoxDriver(config, env),
  vsphere: openVSphereDriver,
};

export function openDriver(config: AgentConfig, env: Env): Promise<Driver> {
  const open = DRIVER_OPENERS[config.provider.type];
  if (!open) throw new ConfigError([`provider type ${config.provider.type} has no driver in this build`]);
  return open(config, env);
}
