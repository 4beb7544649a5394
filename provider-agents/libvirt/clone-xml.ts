/**
 * Edits of an existing domain definition: our metadata element replaced, and the copy of a
 * definition a clone gets (new identity, disks, MACs; the source's NVRAM and cloud-init seed left
 * behind).
 */
import { metadataElement, type VrMetadata } from './metadata.ts';
import { child, el, type XmlElement } from './xml.ts';

/** Our element replaced (or added) in a domain definition's <metadata>. */
export function replaceMetadata(root: XmlElement, meta: VrMetadata): void {
  let metadata = child(root, 'metadata');
  if (!metadata) {
    metadata = el('metadata');
    root.children.splice(2, 0, metadata);
  }
  metadata.children = metadata.children.filter((c) => !c.name.endsWith(':virtrigaud') && c.name !== 'virtrigaud');
  metadata.children.push(metadataElement(meta));
}

/** A copy of a domain definition for a clone: new identity, disks, MACs, our metadata; no NVRAM or cloud-init seed of the source. */
export function cloneDefinition(source: XmlElement, c: {
  name: string; uuid: string; newPaths: Map<string, string>; macs: (i: number) => string; meta: VrMetadata; cpus?: number; memoryKiB?: bigint;
}): XmlElement {
  const root: XmlElement = structuredClone(source);
  for (const e of root.children) {
    if (e.name === 'name') e.text = c.name;
    if (e.name === 'uuid') e.text = c.uuid;
    if (e.name === 'vcpu' && c.cpus) {
      e.text = String(Math.max(c.cpus, Number(e.text ?? '0')));
      e.attrs.current = String(c.cpus);
    }
    if ((e.name === 'memory' || e.name === 'currentMemory') && c.memoryKiB) {
      e.attrs.unit = 'KiB';
      e.text = c.memoryKiB.toString();
    }
  }
  const os = child(root, 'os');
  if (os) os.children = os.children.filter((e) => e.name !== 'nvram');
  const devices = child(root, 'devices');
  if (devices) {
    devices.children = devices.children.filter((d) => !(d.name === 'disk' && child(d, 'readonly') && !c.newPaths.has(child(d, 'source')?.attrs.file ?? '')));
    let nic = 0;
    for (const d of devices.children) {
      if (d.name === 'disk') {
        const s = child(d, 'source');
        const to = s?.attrs.file ? c.newPaths.get(s.attrs.file) : undefined;
        if (s && to) s.attrs.file = to;
        if (to && to.endsWith('.qcow2')) {
          const drv = child(d, 'driver');
          if (drv) drv.attrs.type = 'qcow2';
        }
      }
      if (d.name === 'interface') {
        const mac = child(d, 'mac');
        if (mac) mac.attrs.address = c.macs(nic);
        else d.children.unshift(el('mac', { address: c.macs(nic) }));
        nic++;
      }
      if (d.name === 'graphics' && d.attrs.autoport !== 'yes') delete d.attrs.port;
    }
  }
  replaceMetadata(root, c.meta);
  return root;
}

