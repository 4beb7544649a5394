/**
 * A NetworkSpec to a NIC backing: standard portgroups (Network), distributed portgroups (by their
 * switch's uuid and portgroup key) and NSX opaque networks, looked up by name in the VM's
 * datacenter. `vlan` either checks the named portgroup's VLAN or, without a name, picks the one
 * portgroup carrying that VLAN (a VLAN is a portgroup setting in vSphere, not a NIC setting).
 */
import type { NetworkSpec } from '../../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../../core/errors.ts';
import { decodeMoRef, type MoRef } from '../soap/client.ts';
import { child, children, textOf, xsiType } from '../soap/xml.ts';
import { textName, type InventoryLookup } from './lookup.ts';
import type { Datacenter } from './placement.ts';
import { int } from './property.ts';
import type { NicBacking } from './spec.ts';

interface NetworkEntry {
  ref: MoRef;
  name: string;
}

export class NetworkResolver {
  constructor(private readonly lookup: InventoryLookup) {}

  private async networks(dc: Datacenter): Promise<NetworkEntry[]> {
    const all = await this.lookup.list(dc.networkFolder, ['Network', 'DistributedVirtualPortgroup', 'OpaqueNetwork'], ['name']);
    const seen = new Map<string, NetworkEntry>();
    for (const o of all) seen.set(o.obj.value, { ref: o.obj, name: textName(o) });
    return [...seen.values()];
  }

  /** The VLAN id of a portgroup (undefined: trunk, private VLAN or not readable). */
  async vlanOf(net: MoRef): Promise<number | undefined> {
    if (net.type === 'DistributedVirtualPortgroup') {
      const p = await this.lookup.props(net, ['config.defaultPortConfig']);
      const vlan = child(p.get('config.defaultPortConfig'), 'vlan');
      return xsiType(vlan) === 'VmwareDistributedVirtualSwitchVlanIdSpec' ? int(child(vlan, 'vlanId')) ?? 0 : undefined;
    }
    if (net.type === 'Network') {
      const p = await this.lookup.props(net, ['name', 'host']);
      const name = textOf(p.get('name'));
      const host = children(p.get('host'), 'ManagedObjectReference')[0];
      if (!host) return undefined;
      const hp = await this.lookup.props(decodeMoRef(host, 'Network.host'), ['config.network.portgroup']);
      for (const pg of children(hp.get('config.network.portgroup'), 'HostPortGroup')) {
        const spec = child(pg, 'spec');
        if (textOf(child(spec, 'name')) === name) return int(child(spec, 'vlanId')) ?? 0;
      }
    }
    return undefined;
  }

  /** The backing for `spec`, or undefined when it names no network (keep the template's). */
  async backingFor(dc: Datacenter, spec: NetworkSpec): Promise<NicBacking | undefined> {
    const wantDvpg = spec.kind === 'distributed-portgroup';
    const wantStandard = spec.kind === 'portgroup';
    const all = (await this.networks(dc)).filter((n) =>
      (!wantDvpg || n.ref.type === 'DistributedVirtualPortgroup') && (!wantStandard || n.ref.type === 'Network'));
    let chosen: NetworkEntry | undefined;
    if (spec.network) {
      const named = all.filter((n) => n.name === spec.network);
      if (named.length !== 1) {
        const have = all.map((n) => n.name).sort().join(', ');
        throw new PermanentError(named.length === 0
          ? `network "${spec.network}"${spec.kind ? ` (${spec.kind})` : ''} not found in datacenter ${dc.name} (have: ${have || 'none'})`
          : `network "${spec.network}" is ambiguous in datacenter ${dc.name}: ${named.length} portgroups have that name; set its kind`, { reason: 'NetworkNotFound' });
      }
      chosen = named[0]!;
      if (spec.vlan > 0) {
        const vlan = await this.vlanOf(chosen.ref);
        if (vlan !== spec.vlan) {
          throw new PermanentError(`network "${spec.network}" carries VLAN ${vlan ?? 'trunk/unknown'}, expected ${spec.vlan}`, { reason: 'NetworkVlanMismatch' });
        }
      }
    } else if (spec.vlan > 0) {
      const matching: NetworkEntry[] = [];
      for (const n of all) if (n.ref.type !== 'OpaqueNetwork' && (await this.vlanOf(n.ref)) === spec.vlan) matching.push(n);
      if (matching.length !== 1) {
        throw new PermanentError(`expected exactly one portgroup with VLAN ${spec.vlan} in datacenter ${dc.name}, found ${matching.length}${matching.length ? ` (${matching.map((m) => m.name).join(', ')})` : ''}; name the network`, { reason: 'NetworkNotFound' });
      }
      chosen = matching[0]!;
    } else {
      return undefined;
    }
    return this.backingOf(chosen);
  }

  private async backingOf(n: NetworkEntry): Promise<NicBacking> {
    if (n.ref.type === 'DistributedVirtualPortgroup') {
      const p = await this.lookup.props(n.ref, ['key', 'config.distributedVirtualSwitch']);
      const dvs = decodeMoRef(p.get('config.distributedVirtualSwitch'), `${n.name}.config.distributedVirtualSwitch`);
      const uuid = textOf((await this.lookup.props(dvs, ['uuid'])).get('uuid')) ?? '';
      return { kind: 'dvportgroup', switchUuid: uuid, portgroupKey: textOf(p.get('key')) ?? '' };
    }
    if (n.ref.type === 'OpaqueNetwork') {
      const p = await this.lookup.props(n.ref, ['summary']);
      const s = p.get('summary');
      return { kind: 'opaque', opaqueNetworkId: textOf(child(s, 'opaqueNetworkId')) ?? '', opaqueNetworkType: textOf(child(s, 'opaqueNetworkType')) ?? '' };
    }
    return { kind: 'network', name: n.name, network: n.ref };
  }
}
