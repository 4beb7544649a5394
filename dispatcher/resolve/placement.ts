/** The VM's placement → Placement, each field falling back to the Provider's defaults. */
import { create } from '@bufbuild/protobuf';
import type { Provider, VirtualMachine } from '../../api/objects.ts';
import { PlacementSchema, type Placement } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

/** The VM's placement, each field falling back to the Provider's defaults. */
export function resolvePlacement(vm: VirtualMachine, provider: Provider): Placement {
  const p = vm.spec.placement ?? {};
  const d = provider.spec.defaults ?? {};
  const datastore = p.datastore ?? d.datastore ?? '';
  return create(PlacementSchema, {
    cluster: p.cluster ?? d.cluster ?? '',
    host: p.host ?? '',
    resourcePool: p.resourcePool ?? d.resourcePool ?? '',
    folder: p.folder ?? d.folder ?? '',
    datastore,
    // A datastore cluster is ignored when a datastore is named (the CRD's documented precedence).
    datastoreCluster: datastore ? '' : (p.storagePod ?? d.storagePod ?? ''),
    // On Proxmox VE a host is a node.
    node: provider.spec.type === 'proxmox' ? (p.host ?? '') : '',
  });
}
