/** The Proxmox VE driver. */
export { ProxmoxDriver, PROXMOX_CAPABILITIES, authFrom, type ProxmoxDriverOptions } from './driver.ts';
export { loadProxmoxSettings, openProxmoxDriver, type ProxmoxSettings } from './config.ts';
export { PveClient, type PveAuth, type PveClientOptions } from './client.ts';
export { PveApiError, PveTransportError, toAgentError, isLockError } from './errors.ts';
