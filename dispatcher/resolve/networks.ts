/** The VM's networks[] and their VMNetworkAttachments → NetworkSpecs (portgroup, bridge, VLAN, addressing). */
import { create } from '@bufbuild/protobuf';
import type { VirtualMachine, VMNetworkAttachment } from '../../api/objects.ts';
import { NetworkSpecSchema, type NetworkSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Lookup, Problems } from './types.ts';

type VMNetworkRef = NonNullable<VirtualMachine['spec']['networks']>[number];
type Backing = Pick<NetworkSpec, 'network' | 'kind' | 'vlan' | 'model' | 'mtu'>;

function vsphereBacking(a: VMNetworkAttachment): Backing | undefined {
  const v = a.spec.network.vsphere;
  if (!v) return undefined;
  return {
    network: v.portgroup ?? '',
    kind: v.distributedSwitch ? 'distributed-portgroup' : 'portgroup',
    vlan: v.vlan?.vlanID ?? 0,
    model: v.adapterType ?? 'vmxnet3',
    mtu: 0,
  };
}

function libvirtBacking(a: VMNetworkAttachment): Backing | undefined {
  const l = a.spec.network.libvirt;
  if (!l) return undefined;
  const bridge = l.bridge?.name;
  return { network: bridge ?? l.networkName ?? '', kind: bridge ? 'bridge' : 'network', vlan: 0, model: l.model ?? 'virtio', mtu: 0 };
}

function proxmoxBacking(a: VMNetworkAttachment): Backing | undefined {
  const p = a.spec.network.proxmox;
  if (!p) return undefined;
  return { network: p.bridge ?? '', kind: 'bridge', vlan: p.vlanTag ?? 0, model: p.model ?? 'virtio', mtu: p.mtu ?? 0 };
}

const BACKINGS: Record<string, (a: VMNetworkAttachment) => Backing | undefined> = {
  vsphere: vsphereBacking,
  libvirt: libvirtBacking,
  qemu: libvirtBacking,
  proxmox: proxmoxBacking,
};

function backingFor(a: VMNetworkAttachment, providerType: string): Backing | undefined {
  const pick = BACKINGS[providerType];
  if (pick) return pick(a);
  // A provider type without its own section (the mock): the first one the attachment has.
  return vsphereBacking(a) ?? libvirtBacking(a) ?? proxmoxBacking(a);
}

function splitCidr(cidr: string): { ip: string; prefix: number } {
  const [ip = '', prefix = '0'] = cidr.split('/');
  return { ip, prefix: Number(prefix) };
}

function resolveOne(ref: VMNetworkRef, attachment: VMNetworkAttachment | undefined, providerType: string, problems: Problems): NetworkSpec | undefined {
  let backing: Backing = { network: '', kind: '', vlan: 0, model: '', mtu: 0 };
  if (attachment) {
    const b = backingFor(attachment, providerType);
    if (!b) return problems.bad(`VMNetworkAttachment ${attachment.metadata.name}: has no network.${providerType} section for this ${providerType} provider`);
    backing = b;
  }
  const alloc = attachment?.spec.ipAllocation;
  const fromAttachment = alloc?.type === 'Static' && alloc.staticConfig ? splitCidr(alloc.staticConfig.address) : undefined;
  const ipAddress = ref.ipAddress ?? fromAttachment?.ip ?? '';
  const prefix = ref.ipAddress ? (ref.prefix ?? 0) : (fromAttachment?.prefix ?? 0);
  const gateway = ref.ipAddress ? (ref.gateway ?? '') : (alloc?.staticConfig?.gateway ?? '');
  const dns = ref.dns
    ? ref.dns.split(',').map((s) => s.trim()).filter(Boolean)
    : [...(alloc?.dnsConfig?.servers ?? [])];
  return create(NetworkSpecSchema, {
    name: ref.name,
    ...backing,
    mtu: backing.mtu || attachment?.spec.network.mtu || 0,
    macAddress: ref.macAddress ?? '',
    ipAddress,
    prefix,
    gateway,
    dns,
  });
}

export function resolveNetworks(vm: VirtualMachine, lookup: Lookup, providerType: string, problems: Problems): NetworkSpec[] {
  const namespace = vm.metadata.namespace ?? '';
  const out: NetworkSpec[] = [];
  for (const ref of vm.spec.networks ?? []) {
    let attachment: VMNetworkAttachment | undefined;
    if (ref.networkRef) {
      const ns = ref.networkRef.namespace ?? namespace;
      attachment = lookup.network(ns, ref.networkRef.name);
      if (!attachment) {
        problems.miss(`VMNetworkAttachment ${ns}/${ref.networkRef.name}`);
        continue;
      }
    }
    const spec = resolveOne(ref, attachment, providerType, problems);
    if (spec) out.push(spec);
  }
  return out;
}
