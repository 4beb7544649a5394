/**
 * Our identity on a domain: one element in the domain's <metadata>, in our own namespace:
 *
 *   <vr:virtrigaud xmlns:vr="https://virtrigaud.io/xmlns/1" uid="…" generation="3" adopted="false">
 *     <vr:volume pool="default" name="vr-<uid>-root.qcow2"/>      volumes this VM owns (deleted with it)
 *     <vr:base pool="default" name="…"/>                          a frozen disk shared with linked clones
 *   </vr:virtrigaud>
 *
 * libvirt stores it with the domain's configuration, so uid and generation are written in the
 * same hypervisor call (define, or setMetadata) and survive agent restarts.
 */
import { children, el, localName, parseXml, toXml, type XmlElement } from './xml.ts';

export const METADATA_NS = 'https://virtrigaud.io/xmlns/1';
export const METADATA_PREFIX = 'vr';

export interface VolumeName {
  pool: string;
  name: string;
}

export interface VrMetadata {
  uid: string;
  generation: bigint;
  adopted: boolean;
  volumes: VolumeName[];
  bases: VolumeName[];
}

/** The element as it goes into a domain definition (with prefix and namespace declaration). */
export function metadataElement(m: VrMetadata): XmlElement {
  return el(`${METADATA_PREFIX}:virtrigaud`, {
    [`xmlns:${METADATA_PREFIX}`]: METADATA_NS,
    uid: m.uid,
    generation: m.generation.toString(),
    adopted: m.adopted ? 'true' : 'false',
  }, [
    ...m.volumes.map((v) => el(`${METADATA_PREFIX}:volume`, { pool: v.pool, name: v.name })),
    ...m.bases.map((v) => el(`${METADATA_PREFIX}:base`, { pool: v.pool, name: v.name })),
  ]);
}

/** The element as setMetadata takes it: libvirt adds the namespace from the call's key and uri. */
export function metadataForSet(m: VrMetadata): string {
  const strip = (e: XmlElement): XmlElement => ({
    name: localName(e),
    attrs: Object.fromEntries(Object.entries(e.attrs).filter(([k]) => !k.startsWith('xmlns'))),
    children: e.children.map(strip),
  });
  return toXml(strip(metadataElement(m)));
}

const volumeOf = (e: XmlElement): VolumeName | undefined =>
  e.attrs.pool && e.attrs.name ? { pool: e.attrs.pool, name: e.attrs.name } : undefined;

/** Reads our element (from getMetadata, or found in a domain's XML); undefined without a uid. */
export function readMetadata(e: XmlElement | string | undefined): VrMetadata | undefined {
  if (e === undefined) return undefined;
  const root = typeof e === 'string' ? parseXml(e, 'virtrigaud domain metadata') : e;
  if (localName(root) !== 'virtrigaud' || !root.attrs.uid) return undefined;
  let generation = 0n;
  try {
    generation = BigInt(root.attrs.generation ?? '0');
  } catch {
    generation = 0n;
  }
  const items = (name: string) => root.children.filter((c) => localName(c) === name).map(volumeOf).filter((v): v is VolumeName => !!v);
  return { uid: root.attrs.uid, generation, adopted: root.attrs.adopted === 'true', volumes: items('volume'), bases: items('base') };
}

/** Our element inside a domain's XML: <metadata> children in our namespace. */
export function metadataOfDomain(domain: XmlElement): VrMetadata | undefined {
  const meta = children(domain, 'metadata')[0];
  if (!meta) return undefined;
  for (const c of meta.children) {
    if (localName(c) !== 'virtrigaud') continue;
    const ns = Object.entries(c.attrs).find(([k]) => k === 'xmlns' || k.startsWith('xmlns:'))?.[1];
    if (ns === undefined || ns === METADATA_NS) return readMetadata(c);
  }
  return undefined;
}
