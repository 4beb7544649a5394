/**
 * PVE "property strings", the values of config options such as
 * `net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=10` or `scsi0: local-lvm:vm-100-disk-0,size=32G`:
 * comma-separated `key=value` items, where a bare first item is the option's default key.
 */

export type Props = Map<string, string>;

export function parseProps(value: string, defaultKey: string): Props {
  const out: Props = new Map();
  value.split(',').forEach((part, i) => {
    const p = part.trim();
    if (!p) return;
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0) out.set(defaultKey, p);
      else out.set(p, '1');
      return;
    }
    out.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  });
  return out;
}

/** Prints items in order; the default key's value (if first) bare. */
export function printProps(props: Props, defaultKey?: string): string {
  const parts: string[] = [];
  for (const [k, v] of props) parts.push(k === defaultKey && parts.length === 0 ? v : `${k}=${v}`);
  return parts.join(',');
}

/** The NIC models PVE knows (net[n] `model` enum); each is also a key whose value is the MAC. */
export const NIC_MODELS = new Set([
  'e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er',
  'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3',
]);

export interface Nic {
  model: string;
  mac: string | undefined;
  bridge: string | undefined;
  tag: number | undefined;
  mtu: number | undefined;
  /** Every other option (firewall, rate, queues, link_down, trunks), kept as it is. */
  other: Array<[string, string]>;
}

export function parseNic(value: string): Nic {
  const props = parseProps(value, 'model');
  let model = props.get('model') ?? '';
  let mac = props.get('macaddr');
  for (const [k, v] of props) {
    if (NIC_MODELS.has(k)) {
      model = k;
      mac = v;
    }
  }
  const num = (k: string) => (props.has(k) && /^\d+$/.test(props.get(k)!) ? Number(props.get(k)) : undefined);
  const known = new Set(['model', 'macaddr', 'bridge', 'tag', 'mtu', model]);
  return {
    model,
    mac: mac?.toUpperCase(),
    bridge: props.get('bridge'),
    tag: num('tag'),
    mtu: num('mtu'),
    other: [...props].filter(([k]) => !known.has(k)),
  };
}

export function printNic(n: Nic): string {
  const parts = [n.mac ? `${n.model}=${n.mac}` : n.model];
  if (n.bridge) parts.push(`bridge=${n.bridge}`);
  for (const [k, v] of n.other) parts.push(`${k}=${v}`);
  if (n.mtu) parts.push(`mtu=${n.mtu}`);
  if (n.tag) parts.push(`tag=${n.tag}`);
  return parts.join(',');
}

export function sameNic(a: Nic, b: Nic): boolean {
  return a.model === b.model && (a.mac ?? '') === (b.mac ?? '') && (a.bridge ?? '') === (b.bridge ?? '')
    && (a.tag ?? 0) === (b.tag ?? 0) && (a.mtu ?? 0) === (b.mtu ?? 0)
    && JSON.stringify([...a.other].sort()) === JSON.stringify([...b.other].sort());
}

export interface Drive {
  volume: string;
  media: string | undefined;
  /** Size in bytes from `size=`, when present. */
  sizeBytes: number | undefined;
  props: Props;
}

export const DISK_KEY_RE = /^(scsi|virtio|sata|ide)\d+$/;

export function parseDrive(value: string): Drive {
  const props = parseProps(value, 'file');
  const size = props.get('size');
  return {
    volume: props.get('file') ?? props.get('volume') ?? '',
    media: props.get('media'),
    sizeBytes: size !== undefined ? parseSize(size) : undefined,
    props,
  };
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** PVE disk sizes: "32G", "512M", "1.5T", "10737418240". undefined when unreadable. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(s.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
}

/** True for a drive that is a disk (not a CD-ROM and not a cloud-init drive). */
export function isDataDisk(d: Drive): boolean {
  return d.media !== 'cdrom' && !/cloudinit/.test(d.volume) && d.volume !== 'none';
}

/** The boot disk's option name: first disk in `boot: order=…`, else the first of scsi0, virtio0, sata0, ide0. */
export function bootDiskKey(config: Record<string, string>): string | undefined {
  const order = parseProps(config.boot ?? '', 'order').get('order');
  const isDisk = (k: string) => DISK_KEY_RE.test(k) && config[k] !== undefined && isDataDisk(parseDrive(config[k]!));
  for (const k of (order ?? '').split(';')) if (isDisk(k.trim())) return k.trim();
  return ['scsi0', 'virtio0', 'sata0', 'ide0'].find(isDisk);
}
