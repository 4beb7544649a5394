/** The libvirt/KVM driver: open it with the agent's environment (config.ts). */
import type { AgentConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { loadLibvirtConfig } from './config.ts';
import { LibvirtDriver } from './driver.ts';

export { LibvirtDriver, LIBVIRT_CAPABILITIES } from './driver.ts';
export { loadLibvirtConfig, type LibvirtConfig } from './config.ts';

/** The opener drivers.ts lists for provider type `libvirt`. */
export async function openLibvirtDriver(config: AgentConfig, env: Record<string, string | undefined>): Promise<LibvirtDriver> {
  const log = createLogger({ level: config.logLevel, base: { component: 'agent', provider: config.provider.name } });
  return LibvirtDriver.open({ ...loadLibvirtConfig(env), log });
}
