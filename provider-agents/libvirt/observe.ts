/**
 * What the agent reports about a domain: power state, vCPUs and memory from the live XML, guest
 * IPs (QEMU guest agent first, DHCP leases as fallback), the VNC/SPICE console URL from the live
 * graphics element, snapshots, and the generation stored in our metadata. All reads go out at once.
 */
import { create } from '@bufbuild/protobuf';
import { ObservedVMSchema, PowerState, type ObservedVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { LibvirtConnection } from './connection.ts';
import { readDomainXml, type DomainFacts, type DomainGraphics } from './domain-xml.ts';
import { DomainState, INTERFACE_ADDRESSES_SRC_AGENT, INTERFACE_ADDRESSES_SRC_LEASE, P, uuidString, type DomainRef, type InterfaceAddresses } from './rpc/protocol.ts';
import { listSnapshots } from './snapshots.ts';

export interface Observation {
  vm: ObservedVM;
  facts: DomainFacts;
  state: number;
}

export const isActiveState = (state: number) => state !== DomainState.Shutoff && state !== DomainState.Crashed && state !== DomainState.NoState;

export function powerOf(state: number): PowerState {
  return isActiveState(state) ? PowerState.ON : PowerState.OFF;
}

const ANY = new Set(['', '0.0.0.0', '::', '127.0.0.1', '::1', 'localhost']);

export function consoleUrl(graphics: DomainGraphics[], consoleHost: string): string {
  const g = graphics.find((x) => (x.type === 'vnc' || x.type === 'spice') && x.port > 0);
  if (!g) return '';
  const host = !g.listen || ANY.has(g.listen) ? consoleHost : g.listen;
  return `${g.type}://${host.includes(':') ? `[${host}]` : host}:${g.port}`;
}

function usable(addr: string): boolean {
  return !addr.startsWith('127.') && addr !== '::1' && !addr.toLowerCase().startsWith('fe80:');
}

const flatten = (ifaces: InterfaceAddresses[]) => ifaces.flatMap((i) => i.addrs.map((a) => a.addr)).filter(usable);

/** Guest IPs: the guest agent knows every address; DHCP leases of libvirt networks are the fallback. */
export async function guestIps(conn: LibvirtConnection, dom: DomainRef): Promise<string[]> {
  for (const source of [INTERFACE_ADDRESSES_SRC_AGENT, INTERFACE_ADDRESSES_SRC_LEASE]) {
    try {
      const ips = flatten(await conn.call(P.domainInterfaceAddresses, { dom, source, flags: 0 }));
      if (ips.length) return [...new Set(ips)];
    } catch {
      // No agent configured or answering, or no lease source: try the next one.
    }
  }
  return [];
}

export async function observe(conn: LibvirtConnection, dom: DomainRef, consoleHost: string): Promise<Observation> {
  const [{ state }, xml, snapshots] = await Promise.all([
    conn.call(P.domainGetState, { dom, flags: 0 }),
    conn.call(P.domainGetXmlDesc, { dom, flags: 0 }),
    listSnapshots(conn, dom),
  ]);
  const facts = readDomainXml(xml);
  const active = isActiveState(state);
  const ips = active ? await guestIps(conn, dom) : [];
  const vm = create(ObservedVMSchema, {
    id: facts.uuid || uuidString(dom.uuid),
    exists: true,
    powerState: powerOf(state),
    ips,
    consoleUrl: active ? consoleUrl(facts.graphics, consoleHost) : '',
    cpus: facts.vcpus,
    memoryMib: facts.memoryKiB / 1024n,
    snapshots,
    appliedGeneration: facts.metadata?.generation ?? 0n,
  });
  return { vm, facts, state };
}
