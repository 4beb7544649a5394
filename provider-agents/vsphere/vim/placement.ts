/**
 * Placement: the datacenter, folder, resource pool, host and datastore a new VM goes to, from the
 * names in DesiredVM.placement. A name is looked up under its datacenter; a value with `/` is an
 * inventory path below the datacenter's section (`host/`, `vm/`, `datastore/`). Unset parts take
 * the datacenter's defaults: its VM folder, the pool of the cluster or host given, else of its first
 * cluster (by name), else of its first standalone host.
 */
import type { Placement } from '../../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../../core/errors.ts';
import { decodeMoRef, type MoRef } from '../soap/client.ts';
import { textOf } from '../soap/xml.ts';
import { textName, type InventoryLookup } from './lookup.ts';

export interface Datacenter {
  ref: MoRef;
  name: string;
  path: string;
  vmFolder: MoRef;
  hostFolder: MoRef;
  datastoreFolder: MoRef;
  networkFolder: MoRef;
}

export interface ResolvedPlacement {
  datacenter: Datacenter;
  folder: MoRef;
  pool: MoRef;
  host?: MoRef;
  datastore?: MoRef;
  /** A datastore cluster: Storage DRS recommends the datastore at clone time. */
  storagePod?: MoRef;
}

async function inventoryPath(lookup: InventoryLookup, obj: MoRef): Promise<string> {
  const parts: string[] = [];
  let cur: MoRef | undefined = obj;
  for (let i = 0; cur && i < 32; i++) {
    const props = await lookup.props(cur, ['name', 'parent']);
    const parent = props.get('parent');
    if (parent === undefined) break; // the root folder's name is not part of a path
    parts.unshift(textOf(props.get('name')) ?? '');
    cur = decodeMoRef(parent, 'parent');
  }
  return parts.join('/');
}

export async function resolveDatacenter(lookup: InventoryLookup, root: MoRef, name: string): Promise<Datacenter> {
  let ref: MoRef | undefined;
  if (name) {
    ref = await lookup.byPath(name);
    if (!ref || ref.type !== 'Datacenter') ref = await lookup.uniqueByName(root, ['Datacenter'], name, 'placement.datacenter');
  } else {
    const all = await lookup.list(root, ['Datacenter'], ['name']);
    if (all.length !== 1) {
      throw new PermanentError(`placement.datacenter is required: this vCenter has ${all.length} datacenters (${all.map(textName).sort().join(', ')})`, { reason: 'PlacementAmbiguous' });
    }
    ref = all[0]!.obj;
  }
  const p = await lookup.props(ref, ['name', 'vmFolder', 'hostFolder', 'datastoreFolder', 'networkFolder']);
  const folder = (k: string) => decodeMoRef(p.get(k), `Datacenter.${k}`);
  return {
    ref,
    name: textOf(p.get('name')) ?? name,
    path: await inventoryPath(lookup, ref),
    vmFolder: folder('vmFolder'),
    hostFolder: folder('hostFolder'),
    datastoreFolder: folder('datastoreFolder'),
    networkFolder: folder('networkFolder'),
  };
}

/** `value` under `container`: by inventory path when it holds `/`, else by unique name. */
async function resolveIn(lookup: InventoryLookup, dc: Datacenter, section: string, container: MoRef, types: string[], value: string, what: string): Promise<MoRef> {
  if (value.includes('/')) {
    const path = `${dc.path}/${section}/${value.replace(/^\/+/, '')}`;
    const found = await lookup.byPath(path);
    if (!found || !types.includes(found.type)) {
      throw new PermanentError(`${what} "${value}" not found (inventory path ${path})`, { reason: 'PlacementNotFound' });
    }
    return found;
  }
  return lookup.uniqueByName(container, types, value, `${what} in datacenter ${dc.name}:`);
}

async function poolOf(lookup: InventoryLookup, computeResource: MoRef): Promise<MoRef> {
  const p = await lookup.props(computeResource, ['resourcePool']);
  return decodeMoRef(p.get('resourcePool'), `${computeResource.value}.resourcePool`);
}

export async function resolvePlacement(lookup: InventoryLookup, root: MoRef, placement: Placement | undefined): Promise<ResolvedPlacement> {
  const want = placement ?? { datacenter: '', cluster: '', host: '', resourcePool: '', folder: '', datastore: '', datastoreCluster: '' };
  const dc = await resolveDatacenter(lookup, root, want.datacenter);
  const cluster = want.cluster
    ? await resolveIn(lookup, dc, 'host', dc.hostFolder, ['ClusterComputeResource'], want.cluster, 'placement.cluster')
    : undefined;
  const host = want.host
    ? await resolveIn(lookup, dc, 'host', cluster ?? dc.hostFolder, ['HostSystem'], want.host, `placement.host${cluster ? ` in cluster ${want.cluster}` : ''}`)
    : undefined;
  const hostCR = host ? decodeMoRef((await lookup.props(host, ['parent'])).get('parent'), `${host.value}.parent`) : undefined;

  let pool: MoRef;
  if (want.resourcePool) {
    const scope = cluster ?? hostCR ?? dc.hostFolder;
    pool = await resolveIn(lookup, dc, 'host', scope, ['ResourcePool', 'VirtualApp'], want.resourcePool, 'placement.resourcePool');
  } else if (cluster || hostCR) {
    pool = await poolOf(lookup, (cluster ?? hostCR)!);
  } else {
    const crs = await lookup.list(dc.hostFolder, ['ClusterComputeResource', 'ComputeResource'], ['name']);
    const ordered = [...crs].sort((a, b) => (a.obj.type === b.obj.type ? textName(a).localeCompare(textName(b)) : a.obj.type === 'ClusterComputeResource' ? -1 : 1));
    if (!ordered[0]) throw new PermanentError(`datacenter ${dc.name} has no cluster or host to place a VM on`, { reason: 'PlacementNotFound' });
    pool = await poolOf(lookup, ordered[0].obj);
  }

  const folder = want.folder ? await resolveIn(lookup, dc, 'vm', dc.vmFolder, ['Folder'], want.folder, 'placement.folder') : dc.vmFolder;
  const datastore = want.datastore
    ? await resolveIn(lookup, dc, 'datastore', dc.datastoreFolder, ['Datastore'], want.datastore, 'placement.datastore')
    : undefined;
  const storagePod = !datastore && want.datastoreCluster
    ? await resolveIn(lookup, dc, 'datastore', dc.datastoreFolder, ['StoragePod'], want.datastoreCluster, 'placement.datastoreCluster')
    : undefined;
  return { datacenter: dc, folder, pool, host, datastore, storagePod };
}
