/**
 * Cloud-init on Proxmox VE. PVE generates the guest's cloud-init data itself from config options
 * (`ciuser`, `sshkeys`, `ipconfigN`, `nameserver`, …) and has no API to upload user-data; anything
 * else goes through `cicustom`, which names snippet files an operator placed on a storage.
 *
 * So: static addressing comes from the VM's networks (or a network-config v1/v2), the user and SSH
 * keys from `#cloud-config` user-data; `proxmox.cicustom` in the VMClass's extraConfig names
 * snippets for the rest. User-data PVE cannot express without a snippet is refused, naming its keys:
 * silently dropping part of a guest's initialisation would be worse.
 */
import { parse as parseYaml } from 'yaml';
import type { DesiredVM, NetworkSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../core/errors.ts';

/** The cloud-init options this agent manages. */
export const CLOUD_INIT_KEYS = ['ciuser', 'sshkeys', 'nameserver', 'searchdomain', 'cicustom', 'ciupgrade'] as const;

/** `sshkeys` as PVE stores it: URL-encoded (its format `urlencoded` allows `[-%a-zA-Z0-9_.!~*'()]`). */
export function encodeSshKeys(keys: readonly string[]): string {
  return encodeURIComponent(`${keys.map((k) => k.trim()).filter(Boolean).join('\n')}\n`);
}

export function decodeSshKeys(value: string): string[] {
  try {
    return decodeURIComponent(value).split('\n').map((k) => k.trim()).filter(Boolean);
  } catch {
    return [];
  }
}

function ipconfigOf(net: Pick<NetworkSpec, 'ipAddress' | 'prefix' | 'gateway'>): string {
  if (!net.ipAddress) return 'ip=dhcp';
  const v6 = net.ipAddress.includes(':');
  const cidr = net.ipAddress.includes('/') ? net.ipAddress : `${net.ipAddress}/${net.prefix || (v6 ? 64 : 24)}`;
  return v6 ? `ip6=${cidr}${net.gateway ? `,gw6=${net.gateway}` : ''}` : `ip=${cidr}${net.gateway ? `,gw=${net.gateway}` : ''}`;
}

interface NetPlan {
  ipconfig: string[];
  nameservers: string[];
  searchdomains: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** A network-config (v2 `ethernets`, or v1 `config` physical subnets) as ipconfigN lines, in order. */
export function netplanToIpconfig(text: string): NetPlan {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PermanentError(`the cloud-init network-config is not YAML: ${(err as Error).message}`, { reason: 'InvalidCloudInit' });
  }
  const root = isObj(doc) && isObj(doc.network) ? doc.network : doc;
  const plan: NetPlan = { ipconfig: [], nameservers: [], searchdomains: [] };
  if (!isObj(root)) throw new PermanentError('the cloud-init network-config is not a mapping', { reason: 'InvalidCloudInit' });
  if (isObj(root.ethernets)) {
    for (const eth of Object.values(root.ethernets)) {
      if (!isObj(eth)) continue;
      const parts: string[] = [];
      const addrs = strings(eth.addresses);
      const v4 = addrs.find((a) => !a.includes(':'));
      const v6 = addrs.find((a) => a.includes(':'));
      const routes = Array.isArray(eth.routes) ? eth.routes.filter(isObj) : [];
      const defaultVia = (fam: 4 | 6) => routes.find((r) => (r.to === 'default' || r.to === (fam === 4 ? '0.0.0.0/0' : '::/0')) && typeof r.via === 'string' && r.via.includes(':') === (fam === 6))?.via as string | undefined;
      if (v4) parts.push(`ip=${v4}`);
      else if (eth.dhcp4 === true || eth.dhcp4 === 'true' || !v6) parts.push('ip=dhcp');
      const gw4 = typeof eth.gateway4 === 'string' ? eth.gateway4 : defaultVia(4);
      if (v4 && gw4) parts.push(`gw=${gw4}`);
      if (v6) parts.push(`ip6=${v6}`);
      else if (eth.dhcp6 === true) parts.push('ip6=dhcp');
      const gw6 = typeof eth.gateway6 === 'string' ? eth.gateway6 : defaultVia(6);
      if (v6 && gw6) parts.push(`gw6=${gw6}`);
      plan.ipconfig.push(parts.join(','));
      if (isObj(eth.nameservers)) {
        plan.nameservers.push(...strings(eth.nameservers.addresses));
        plan.searchdomains.push(...strings(eth.nameservers.search));
      }
    }
  } else if (Array.isArray(root.config)) {
    for (const item of root.config.filter(isObj)) {
      if (item.type === 'nameserver') {
        plan.nameservers.push(...strings(item.address));
        plan.searchdomains.push(...strings(item.search));
        continue;
      }
      if (item.type !== 'physical') continue;
      const subnets = Array.isArray(item.subnets) ? item.subnets.filter(isObj) : [];
      const s = subnets[0];
      if (!s || s.type === 'dhcp' || s.type === 'dhcp4') plan.ipconfig.push('ip=dhcp');
      else if (typeof s.address === 'string') {
        const cidr = s.address.includes('/') ? s.address : `${s.address}/${typeof s.netmask === 'string' ? maskToPrefix(s.netmask) : 24}`;
        plan.ipconfig.push(`ip=${cidr}${typeof s.gateway === 'string' ? `,gw=${s.gateway}` : ''}`);
      }
      for (const sub of subnets) plan.nameservers.push(...strings(sub.dns_nameservers));
    }
  } else {
    throw new PermanentError('the cloud-init network-config has neither `ethernets` (v2) nor `config` (v1)', { reason: 'InvalidCloudInit' });
  }
  return plan;
}

function maskToPrefix(mask: string): number {
  return mask.split('.').reduce((n, octet) => n + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

/** User-data keys PVE can express; `manage_etc_hosts: true` is what PVE's own user-data sets. */
const MAPPABLE_USER_DATA = new Set(['users', 'user', 'ssh_authorized_keys', 'hostname', 'fqdn', 'package_upgrade', 'manage_etc_hosts', 'preserve_hostname']);

interface UserPlan {
  ciuser: string | undefined;
  sshkeys: string[];
  hostname: string | undefined;
  upgrade: boolean | undefined;
}

export function userDataToOptions(text: string): UserPlan {
  const plan: UserPlan = { ciuser: undefined, sshkeys: [], hostname: undefined, upgrade: undefined };
  if (!text.trim()) return plan;
  if (!text.startsWith('#cloud-config')) {
    throw new PermanentError('the cloud-init user-data is not #cloud-config (a script or MIME multipart): Proxmox VE cannot take it through its API; '
      + 'put it in a snippet on a storage and set proxmox.cicustom (e.g. "user=local:snippets/vm.yaml") in the VMClass extraConfig', { reason: 'CloudInitUnsupported' });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PermanentError(`the cloud-init user-data is not valid YAML: ${(err as Error).message}`, { reason: 'InvalidCloudInit' });
  }
  if (doc === null || doc === undefined) return plan;
  if (!isObj(doc)) throw new PermanentError('the cloud-init user-data is not a mapping', { reason: 'InvalidCloudInit' });
  const unsupported = Object.keys(doc).filter((k) => !MAPPABLE_USER_DATA.has(k));
  if (doc.manage_etc_hosts !== undefined && doc.manage_etc_hosts !== true && doc.manage_etc_hosts !== 'true') unsupported.push('manage_etc_hosts');
  const users = Array.isArray(doc.users) ? doc.users : [];
  const firstUser = users.find((u) => isObj(u)) as Obj | undefined;
  if (users.filter((u) => isObj(u)).length > 1) unsupported.push('users (more than one)');
  if (firstUser) {
    const extra = Object.keys(firstUser).filter((k) => !['name', 'ssh_authorized_keys', 'ssh-authorized-keys'].includes(k));
    if (extra.length) unsupported.push(...extra.map((k) => `users[0].${k}`));
  }
  if (unsupported.length) {
    throw new PermanentError(`the cloud-init user-data uses ${unsupported.join(', ')}, which Proxmox VE cannot set through its API (only a user, SSH keys, `
      + 'the hostname and package_upgrade): put the user-data in a snippet on a storage and set proxmox.cicustom (e.g. "user=local:snippets/vm.yaml") in the VMClass extraConfig',
    { reason: 'CloudInitUnsupported' });
  }
  const userName = typeof doc.user === 'string' ? doc.user : isObj(doc.user) && typeof doc.user.name === 'string' ? doc.user.name : firstUser && typeof firstUser.name === 'string' ? firstUser.name : undefined;
  plan.ciuser = userName;
  plan.sshkeys = [...strings(doc.ssh_authorized_keys), ...(firstUser ? [...strings(firstUser.ssh_authorized_keys), ...strings(firstUser['ssh-authorized-keys'])] : [])];
  const host = typeof doc.hostname === 'string' ? doc.hostname : typeof doc.fqdn === 'string' ? doc.fqdn : undefined;
  plan.hostname = host;
  if (typeof doc.package_upgrade === 'boolean') plan.upgrade = doc.package_upgrade;
  return plan;
}

export interface CloudInitOptions {
  /** ipconfigN, nameserver, ciuser, sshkeys, cicustom, ciupgrade as PVE stores them. */
  options: Record<string, string>;
  /** A hostname the user-data asks for (becomes the VM's name, which PVE uses as hostname). */
  hostname: string | undefined;
}

/** The VM's cloud-init options, or undefined when it asks for no guest initialisation at all. */
export function cloudInitOptions(desired: DesiredVM): CloudInitOptions | undefined {
  const ci = desired.cloudInit;
  const decoder = new TextDecoder();
  const userData = ci ? decoder.decode(ci.userData) : '';
  const networkConfig = ci ? decoder.decode(ci.networkConfig) : '';
  if (ci && ci.ignition.length > 0) {
    throw new PermanentError('Ignition is not supported on Proxmox VE through its API; use cloud-init user-data', { reason: 'IgnitionUnsupported' });
  }
  const cicustom = desired.class?.extraConfig['proxmox.cicustom']?.trim();
  const anyStatic = desired.networks.some((n) => n.ipAddress);
  if (!userData.trim() && !networkConfig.trim() && !anyStatic && !cicustom) return undefined;

  const options: Record<string, string> = {};
  const customUser = cicustom ? /(^|,)user=/.test(cicustom) : false;
  const user = customUser ? undefined : userDataToOptions(userData);
  if (user?.ciuser) options.ciuser = user.ciuser;
  if (user && user.sshkeys.length) options.sshkeys = encodeSshKeys(user.sshkeys);
  if (user?.upgrade !== undefined) options.ciupgrade = user.upgrade ? '1' : '0';
  if (cicustom) options.cicustom = cicustom;

  const dns = desired.networks.flatMap((n) => n.dns);
  if (anyStatic || !networkConfig.trim()) {
    desired.networks.forEach((n, i) => {
      options[`ipconfig${i}`] = ipconfigOf(n);
    });
  } else {
    const plan = netplanToIpconfig(networkConfig);
    plan.ipconfig.forEach((line, i) => {
      options[`ipconfig${i}`] = line;
    });
    dns.push(...plan.nameservers);
    if (plan.searchdomains.length) options.searchdomain = [...new Set(plan.searchdomains)].join(' ');
  }
  if (dns.length) options.nameserver = [...new Set(dns)].join(' ');
  return { options, hostname: user?.hostname };
}
