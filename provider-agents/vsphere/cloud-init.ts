/**
 * Guest initialisation through extraConfig `guestinfo.*`, read by cloud-init's VMware datasource
 * (and Ignition on CoreOS): user data and metadata base64-encoded with their `.encoding` keys; the
 * network config (cloud-init network-config v2) inside the metadata. Static addresses without a
 * network config of their own get one generated, matching each NIC by MAC, so several NICs work.
 * Values are secrets: they are written to vCenter and never logged.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { CloudInit, NetworkSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../core/errors.ts';

const b64 = (data: Uint8Array | string) => Buffer.from(data).toString('base64');

/**
 * A stable manual MAC for NIC `index` of VM `uid` in VMware's static range 00:50:56:00:00:00 –
 * 00:50:56:3F:FF:FF, used when a static address needs a MAC to match and none was given.
 */
export function stableMac(uid: string, index: number): string {
  const h = createHash('sha256').update(`${uid}/${index}`).digest();
  const bytes = [0x00, 0x50, 0x56, h[0]! & 0x3f, h[1]!, h[2]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function normaliseMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** The MAC each NIC gets: the one asked for, a stable one for a static address, else vCenter's. */
export function plannedMacs(uid: string, networks: readonly NetworkSpec[]): (string | undefined)[] {
  return networks.map((n, i) => (n.macAddress ? normaliseMac(n.macAddress) : n.ipAddress ? stableMac(uid, i) : undefined));
}

/** cloud-init network-config v2 for the networks' static addresses (DHCP for the others). */
export function networkConfigFor(networks: readonly NetworkSpec[], macs: readonly (string | undefined)[]): Record<string, unknown> | undefined {
  if (!networks.some((n) => n.ipAddress)) return undefined;
  const ethernets: Record<string, unknown> = {};
  networks.forEach((n, i) => {
    const mac = macs[i];
    if (!mac) return;
    const eth: Record<string, unknown> = { match: { macaddress: mac } };
    if (n.ipAddress) {
      eth.addresses = [`${n.ipAddress}/${n.prefix || 24}`];
      if (n.gateway) eth.routes = [{ to: 'default', via: n.gateway }];
      if (n.dns.length) eth.nameservers = { addresses: [...n.dns] };
    } else {
      eth.dhcp4 = true;
    }
    if (n.mtu) eth.mtu = n.mtu;
    ethernets[`nic${i}`] = eth;
  });
  return { version: 2, ethernets };
}

function parseMetadata(raw: Uint8Array): Record<string, unknown> {
  if (!raw.length) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(Buffer.from(raw).toString('utf8'));
  } catch (err) {
    throw new PermanentError(`cloud-init metadata is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { reason: 'InvalidCloudInit' });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new PermanentError('cloud-init metadata must be a mapping', { reason: 'InvalidCloudInit' });
  return parsed as Record<string, unknown>;
}

/** The guestinfo extraConfig entries for a new VM (empty when there is nothing to initialise). */
export function guestinfoFor(uid: string, ci: CloudInit | undefined, networks: readonly NetworkSpec[], macs: readonly (string | undefined)[]): [string, string][] {
  const out: [string, string][] = [];
  if (ci?.ignition.length) {
    out.push(['guestinfo.ignition.config.data', b64(ci.ignition)], ['guestinfo.ignition.config.data.encoding', 'base64']);
  }
  if (ci?.userData.length) out.push(['guestinfo.userdata', b64(ci.userData)], ['guestinfo.userdata.encoding', 'base64']);
  const network = ci?.networkConfig.length ? Buffer.from(ci.networkConfig).toString('utf8') : networkConfigFor(networks, macs);
  if (ci?.metaData.length || ci?.userData.length || network) {
    const meta = parseMetadata(ci?.metaData ?? new Uint8Array());
    meta['instance-id'] ??= uid;
    if (network) {
      meta.network = b64(typeof network === 'string' ? network : JSON.stringify(network));
      meta['network.encoding'] = 'base64';
    }
    out.push(['guestinfo.metadata', b64(JSON.stringify(meta))], ['guestinfo.metadata.encoding', 'base64']);
  }
  return out;
}
