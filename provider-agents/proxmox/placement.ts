/**
 * Where a new VM goes in a PVE cluster: the node the placement names (host or node), else the
 * online node with the most free memory; the storage the placement names (it must exist on that
 * node and hold the content), else that node's active storage with the content and the most room.
 */
import { PermanentError, TransientError } from '../core/errors.ts';
import type { Resources } from './parse.ts';

export function chooseNode(res: Resources, wanted: string | undefined): string {
  if (wanted) {
    const n = res.nodes.find((x) => x.node === wanted);
    if (!n) throw new PermanentError(`placement names node ${wanted}, but the Proxmox cluster has ${res.nodes.map((x) => x.node).join(', ') || 'no nodes'}`, { reason: 'NodeNotFound' });
    if (!n.online) throw new TransientError(`placement names node ${wanted}, which is offline; waiting for it`, { reason: 'NodeOffline' });
    return n.node;
  }
  const online = res.nodes.filter((n) => n.online).sort((a, b) => (b.maxmem - b.mem) - (a.maxmem - a.mem) || a.node.localeCompare(b.node));
  if (!online.length) throw new TransientError('no Proxmox node is online', { reason: 'NoNodeOnline' });
  return online[0]!.node;
}

export type Content = 'images' | 'iso' | 'import';

export function chooseStorage(res: Resources, node: string, wanted: string | undefined, content: Content): string {
  const onNode = res.storages.filter((s) => s.node === node);
  if (wanted) {
    const s = onNode.find((x) => x.storage === wanted);
    if (!s) throw new PermanentError(`storage ${wanted} is not available on node ${node} (it has ${onNode.map((x) => x.storage).join(', ') || 'none'})`, { reason: 'StorageNotFound' });
    if (!s.content.includes(content)) throw new PermanentError(`storage ${wanted} on node ${node} does not hold ${content} (content: ${s.content.join(',') || 'none'}); enable it in Datacenter → Storage`, { reason: 'StorageUnsuitable' });
    return s.storage;
  }
  const fit = onNode.filter((s) => s.active && s.content.includes(content)).sort((a, b) => b.avail - a.avail || a.storage.localeCompare(b.storage));
  if (!fit.length) throw new PermanentError(`node ${node} has no active storage for ${content}; enable the content type on one in Datacenter → Storage, or name one in the placement`, { reason: 'StorageNotFound' });
  return fit[0]!.storage;
}
