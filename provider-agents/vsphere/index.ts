/** The vSphere agent's driver and its opener (provider-agents/drivers.ts). */
import type { AgentConfig } from '../core/config.ts';
import type { Driver } from '../core/driver.ts';
import { createLogger } from '../core/log.ts';
import { loadVSphereSettings } from './config.ts';
import { VSphereDriver } from './driver.ts';

export { VSphereDriver, VSPHERE_CAPABILITIES, vmNameFor } from './driver.ts';
export { loadVSphereSettings } from './config.ts';

/** Opens the driver from the agent's environment (endpoint, credential Secret, TLS settings). */
export function openVSphereDriver(config: AgentConfig, env: Record<string, string | undefined>): Promise<Driver> {
  const log = createLogger({ level: config.logLevel, base: { component: 'vsphere', provider: `${config.provider.namespace}/${config.provider.name}` } });
  return VSphereDriver.open({ ...loadVSphereSettings(env), log });
}
