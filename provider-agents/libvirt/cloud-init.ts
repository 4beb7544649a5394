/**
 * The NoCloud seed's contents: user-data as given; meta-data as given or a minimal one naming the
 * instance; network-config as given or, when a NIC has a static address, a netplan-style v2 config
 * matching each NIC by its MAC.
 */
import { stringify } from 'yaml';
import type { CloudInit, NetworkSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { NoCloudFiles } from './cloud-init-iso.ts';

export function hasCloudInit(ci: CloudInit | undefined): ci is CloudInit {
  return !!ci && (ci.userData.length > 0 || ci.metaData.length > 0 || ci.networkConfig.length > 0);
}

export function networkConfigV2(nics: { spec: NetworkSpec; mac: string }[]): string | undefined {
  if (!nics.some((n) => n.spec.ipAddress)) return undefined;
  const ethernets: Record<string, unknown> = {};
  nics.forEach(({ spec, mac }, i) => {
    const e: Record<string, unknown> = { match: { macaddress: mac } };
    if (spec.ipAddress) {
      e.addresses = [`${spec.ipAddress}/${spec.prefix || 24}`];
      if (spec.gateway) e.routes = [{ to: 'default', via: spec.gateway }];
    } else {
      e.dhcp4 = true;
    }
    if (spec.dns.length) e.nameservers = { addresses: [...spec.dns] };
    if (spec.mtu) e.mtu = spec.mtu;
    ethernets[`nic${i}`] = e;
  });
  return stringify({ version: 2, ethernets });
}

export function noCloudFiles(ci: CloudInit, instanceId: string, hostname: string, nics: { spec: NetworkSpec; mac: string }[]): NoCloudFiles {
  const text = (s: string) => new TextEncoder().encode(s);
  const generatedNetwork = ci.networkConfig.length ? undefined : networkConfigV2(nics);
  return {
    userData: ci.userData.length ? ci.userData : text('#cloud-config\n{}\n'),
    metaData: ci.metaData.length ? ci.metaData : text(stringify({ 'instance-id': instanceId, 'local-hostname': hostname })),
    networkConfig: ci.networkConfig.length ? ci.networkConfig : generatedNetwork ? text(generatedNetwork) : undefined,
  };
}
