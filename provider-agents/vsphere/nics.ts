/**
 * NIC changes that bring a VM's network adapters to DesiredVM.networks, in order: adapter i gets
 * network i (its backing edited in place, or replaced when another model is asked for), missing
 * adapters are added, surplus ones removed. An empty networks list keeps the template's adapters.
 */
import type { NetworkSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../core/errors.ts';
import { child, textOf, xsiType, type XmlInObject } from './soap/xml.ts';
import { deviceChange, editNic, newNic, NIC_TYPES, type NicBacking, type NicModel } from './vim/spec.ts';
import type { Device } from './vim/vm-record.ts';

const NIC_TYPE_NAMES = new Set<string>([...Object.values(NIC_TYPES), 'VirtualSriovEthernetCard', 'VirtualVmxnet']);

export function isNic(d: Device): boolean {
  return NIC_TYPE_NAMES.has(d.type);
}

function modelOf(spec: NetworkSpec): NicModel | undefined {
  if (!spec.model) return undefined;
  const m = spec.model.toLowerCase() as NicModel;
  if (!(m in NIC_TYPES)) {
    throw new PermanentError(`network ${spec.name}: NIC model "${spec.model}" is not one vSphere offers (${Object.keys(NIC_TYPES).join(', ')})`, { reason: 'InvalidSpec' });
  }
  return m;
}

/** True when the adapter's backing already is `b`. */
function sameBacking(d: Device, b: NicBacking): boolean {
  const backing = child(d.node, 'backing');
  switch (b.kind) {
    case 'network':
      return xsiType(backing) === 'VirtualEthernetCardNetworkBackingInfo' && textOf(child(backing, 'network')) === b.network.value;
    case 'dvportgroup':
      return xsiType(backing) === 'VirtualEthernetCardDistributedVirtualPortBackingInfo' && textOf(child(child(backing, 'port'), 'portgroupKey')) === b.portgroupKey;
    case 'opaque':
      return xsiType(backing) === 'VirtualEthernetCardOpaqueNetworkBackingInfo' && textOf(child(backing, 'opaqueNetworkId')) === b.opaqueNetworkId;
  }
}

export interface NicPlan {
  changes: XmlInObject[];
}

/**
 * @param backings backing per desired network (undefined: keep the adapter's current one)
 * @param macs MAC per desired network (undefined: vCenter assigns one)
 * @param nextKey allocates temporary negative device keys
 */
export function planNics(devices: readonly Device[], desired: readonly NetworkSpec[], backings: readonly (NicBacking | undefined)[],
  macs: readonly (string | undefined)[], nextKey: () => number): NicPlan {
  const changes: XmlInObject[] = [];
  if (desired.length === 0) return { changes };
  // The guest's order: slot on the PCI bus (unit 7, 8, …), then key.
  const nics = devices.filter(isNic).sort((a, b) => (a.unitNumber ?? a.key) - (b.unitNumber ?? b.key) || a.key - b.key);
  desired.forEach((spec, i) => {
    const current = nics[i];
    const model = modelOf(spec);
    const backing = backings[i];
    const mac = macs[i];
    const currentMac = textOf(child(current?.node, 'macAddress'))?.toLowerCase();
    if (current && (!model || NIC_TYPES[model] === current.type)) {
      const rebacked = backing ? !sameBacking(current, backing) : false;
      const remac = !!mac && mac !== currentMac;
      if (rebacked || remac) changes.push(deviceChange('edit', editNic(current.node, backing ?? currentBacking(current), mac)));
      return;
    }
    if (current) changes.push(deviceChange('remove', current.node));
    const b = backing ?? (current ? currentBacking(current) : undefined);
    if (!b) throw new PermanentError(`network ${spec.name}: names no network and the template has no adapter ${i} to keep`, { reason: 'InvalidSpec' });
    changes.push(deviceChange('add', newNic(model ?? 'vmxnet3', nextKey(), b, mac)));
  });
  for (const surplus of nics.slice(desired.length)) changes.push(deviceChange('remove', surplus.node));
  return { changes };
}

/** An adapter's present backing, to keep it when only the MAC or the model changes. */
function currentBacking(d: Device): NicBacking {
  const backing = child(d.node, 'backing');
  const type = xsiType(backing);
  if (type === 'VirtualEthernetCardDistributedVirtualPortBackingInfo') {
    const port = child(backing, 'port');
    return { kind: 'dvportgroup', switchUuid: textOf(child(port, 'switchUuid')) ?? '', portgroupKey: textOf(child(port, 'portgroupKey')) ?? '' };
  }
  if (type === 'VirtualEthernetCardOpaqueNetworkBackingInfo') {
    return { kind: 'opaque', opaqueNetworkId: textOf(child(backing, 'opaqueNetworkId')) ?? '', opaqueNetworkType: textOf(child(backing, 'opaqueNetworkType')) ?? '' };
  }
  const net = child(backing, 'network');
  return { kind: 'network', name: textOf(child(backing, 'deviceName')) ?? '', network: { type: 'Network', value: textOf(net) ?? '' } };
}
