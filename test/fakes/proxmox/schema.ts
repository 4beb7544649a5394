/**
 * Parameter verification as PVE does it (PVE::JSONSchema): an unknown, missing or ill-typed
 * parameter is `400 Parameter verification failed.` with `{"errors": {"<param>": "<why>"}}`.
 * The parameters, types and formats below are taken from the API schema (pve-docs
 * api-viewer/apidata.js, PVE 9.1) for the endpoints the fake serves; messages are PVE's.
 */

export class ParamError extends Error {
  constructor(readonly errors: Record<string, string>) {
    super('Parameter verification failed.');
  }
}

export type Check = (value: string) => string | undefined;

export interface ParamSpec {
  type: 'string' | 'integer' | 'boolean' | 'number';
  optional?: boolean;
  enum?: readonly string[];
  min?: number;
  max?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** A format check: undefined when valid, else PVE's message. */
  format?: Check;
}

export type Schema = Record<string, ParamSpec>;

const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
const CONFIGID_RE = /^[a-z][a-z0-9_-]+$/i;
const DNS_LABEL = '([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const DNS_RE = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
const URLENCODED_RE = /^[-%a-zA-Z0-9_.!~*'()]*$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const IPV4_RE = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;

export const formats = {
  tagList: (v: string) => (v.split(/[;, ]+/).filter(Boolean).every((t) => TAG_RE.test(t)) ? undefined : 'invalid characters in tag'),
  configId: (v: string) => (CONFIGID_RE.test(v) ? undefined : `invalid configuration ID '${v}'`),
  dnsName: (v: string) => (DNS_RE.test(v) ? undefined : 'value does not look like a valid DNS name'),
  urlencoded: (v: string) => (URLENCODED_RE.test(v) ? undefined : `invalid urlencoded string: ${v}`),
  storageId: (v: string) => (/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? undefined : `storage ID '${v}' contains illegal characters`),
  node: (v: string) => (/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v) ? undefined : 'value does not look like a valid node name'),
} satisfies Record<string, Check>;

/** Splits a property string: bare first item → default key. */
export function props(value: string, defaultKey: string): Map<string, string> {
  const out = new Map<string, string>();
  value.split(',').forEach((p, i) => {
    if (!p) return;
    const eq = p.indexOf('=');
    if (eq < 0) out.set(i === 0 ? defaultKey : p, i === 0 ? p : '1');
    else out.set(p.slice(0, eq), p.slice(eq + 1));
  });
  return out;
}

const NIC_MODELS = ['e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3'];

function propertyString(key: string, value: string, defaultKey: string, fields: Record<string, Check | null>, aliases: string[] = []): string | undefined {
  const p = props(value, defaultKey);
  for (const [k, v] of p) {
    if (aliases.includes(k)) continue;
    const check = fields[k];
    if (check === undefined) return `invalid format - format error\n${key}.${k}: property is not defined in schema and the schema does not allow additional properties`;
    const err = check?.(v);
    if (err) return `invalid format - format error\n${key}.${k}: ${err}`;
  }
  return undefined;
}

const intIn = (min: number, max: number): Check => (v) => (!/^\d+$/.test(v) ? `type check ('integer') failed - got '${v}'` : Number(v) < min ? `value must have a minimum value of ${min}` : Number(v) > max ? `value must have a maximum value of ${max}` : undefined);
const bool01: Check = (v) => (/^(0|1)$/.test(v) ? undefined : `type check ('boolean') failed - got '${v}'`);
const anyStr: Check = () => undefined;
const oneOf = (...vals: string[]): Check => (v) => (vals.includes(v) ? undefined : `value '${v}' does not have a value in the enumeration '${vals.join(', ')}'`);

export const netFormat: Check = (v) => {
  const p = props(v, 'model');
  const model = p.get('model') ?? NIC_MODELS.find((m) => p.has(m));
  if (!model || !NIC_MODELS.includes(model)) return 'invalid format - format error\nmodel: property is missing and it is not optional';
  const mac = p.get(model) ?? p.get('macaddr');
  if (mac !== undefined && mac !== '1' && !MAC_RE.test(mac)) return `invalid format - format error\nmacaddr: value '${mac}' does not look like a valid MAC address`;
  return propertyString('net', v, 'model', {
    model: oneOf(...NIC_MODELS), macaddr: anyStr, bridge: (b) => (/^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(b) ? undefined : 'invalid bridge name'),
    tag: intIn(1, 4094), mtu: intIn(1, 65520), firewall: bool01, link_down: bool01, queues: intIn(0, 64), rate: (r) => (/^\d+(\.\d+)?$/.test(r) ? undefined : 'not a number'), trunks: anyStr,
  }, NIC_MODELS);
};

const DRIVE_FIELDS: Record<string, Check | null> = {
  file: null, volume: null, media: oneOf('cdrom', 'disk'), size: (s) => (/^\d+(\.\d+)?[KMGT]?$/.test(s) ? undefined : 'unable to parse size'),
  ssd: bool01, discard: oneOf('ignore', 'on'), iothread: bool01, cache: oneOf('directsync', 'none', 'unsafe', 'writeback', 'writethrough'),
  format: oneOf('raw', 'cow', 'qcow', 'qed', 'qcow2', 'vmdk', 'cloop'), 'import-from': anyStr, serial: (s) => (s.length <= 20 ? undefined : 'value may only be 20 characters long'),
  backup: bool01, replicate: bool01, aio: oneOf('native', 'threads', 'io_uring'), snapshot: bool01, ro: bool01, efitype: oneOf('2m', '4m'),
  'pre-enrolled-keys': bool01, version: oneOf('v1.2', 'v2.0'), 'ms-cert': anyStr,
};
export const driveFormat: Check = (v) => propertyString('drive', v, 'file', DRIVE_FIELDS);

export const ipconfigFormat: Check = (v) => {
  const err = propertyString('ipconfig', v, 'ip', { ip: anyStr, gw: anyStr, ip6: anyStr, gw6: anyStr });
  if (err) return err;
  const p = props(v, 'ip');
  const ip = p.get('ip');
  if (ip && ip !== 'dhcp') {
    const [addr, prefix] = ip.split('/');
    if (!addr || !IPV4_RE.test(addr) || !prefix || Number(prefix) > 32) return `invalid format - format error\nip: invalid format - value does not look like a valid IPv4 network configuration`;
  }
  if (p.get('gw') && !IPV4_RE.test(p.get('gw')!)) return 'invalid format - format error\ngw: invalid format - value does not look like a valid IPv4 address';
  if (p.get('gw') && !ip) return 'gateway specified without specifying an IP address';
  return undefined;
};

const hotplugFormat: Check = (v) => (v === '0' || v === '1' || v.split(',').every((f) => ['network', 'disk', 'cpu', 'memory', 'usb', 'cloudinit'].includes(f)) ? undefined : `invalid hotplug feature '${v}'`);
const memoryFormat: Check = (v) => {
  const cur = props(v, 'current').get('current') ?? '';
  return /^\d+$/.test(cur) && Number(cur) >= 16 ? undefined : 'invalid format - format error\ncurrent: value must have a minimum value of 16';
};
const agentFormat: Check = (v) => propertyString('agent', v, 'enabled', { enabled: bool01, 'freeze-fs': bool01, fstrim_cloned_disks: bool01, type: oneOf('virtio', 'isa') });
const hostpciFormat: Check = (v) => propertyString('hostpci', v, 'host', { host: anyStr, mapping: anyStr, pcie: bool01, rombar: bool01, 'x-vga': bool01 });
const cicustomFormat: Check = (v) => propertyString('cicustom', v, 'user', { user: anyStr, network: anyStr, meta: anyStr, vendor: anyStr });

/** The qemu VM options the fake knows (create and config), by name or indexed name. */
const VM_OPTIONS: Record<string, ParamSpec> = {
  name: { type: 'string', optional: true, format: formats.dnsName },
  description: { type: 'string', optional: true, maxLength: 8192 },
  tags: { type: 'string', optional: true, format: formats.tagList },
  cores: { type: 'integer', optional: true, min: 1 },
  sockets: { type: 'integer', optional: true, min: 1 },
  vcpus: { type: 'integer', optional: true, min: 1 },
  memory: { type: 'string', optional: true, format: memoryFormat },
  balloon: { type: 'integer', optional: true, min: 0 },
  numa: { type: 'boolean', optional: true },
  hotplug: { type: 'string', optional: true, format: hotplugFormat },
  agent: { type: 'string', optional: true, format: agentFormat },
  bios: { type: 'string', optional: true, enum: ['seabios', 'ovmf'] },
  machine: { type: 'string', optional: true, pattern: /^(pc|pc(-i440fx)?-\d+(\.\d+)+(\+pve\d+)?|q35|pc-q35-\d+(\.\d+)+(\+pve\d+)?|virt(?:-\d+(\.\d+)+)?(\+pve\d+)?)$/ },
  cpu: { type: 'string', optional: true },
  ostype: { type: 'string', optional: true, enum: ['other', 'wxp', 'w2k', 'w2k3', 'w2k8', 'wvista', 'win7', 'win8', 'win10', 'win11', 'l24', 'l26', 'solaris'] },
  scsihw: { type: 'string', optional: true, enum: ['lsi', 'lsi53c810', 'virtio-scsi-pci', 'virtio-scsi-single', 'megasas', 'pvscsi'] },
  boot: { type: 'string', optional: true },
  onboot: { type: 'boolean', optional: true },
  protection: { type: 'boolean', optional: true },
  efidisk0: { type: 'string', optional: true, format: driveFormat },
  tpmstate0: { type: 'string', optional: true, format: driveFormat },
  ciuser: { type: 'string', optional: true },
  cipassword: { type: 'string', optional: true },
  citype: { type: 'string', optional: true, enum: ['configdrive2', 'nocloud', 'opennebula'] },
  ciupgrade: { type: 'boolean', optional: true },
  cicustom: { type: 'string', optional: true, format: cicustomFormat },
  sshkeys: { type: 'string', optional: true, format: formats.urlencoded },
  nameserver: { type: 'string', optional: true },
  searchdomain: { type: 'string', optional: true },
  vga: { type: 'string', optional: true },
  serial0: { type: 'string', optional: true, pattern: /^(\/dev\/.+|socket)$/ },
  smbios1: { type: 'string', optional: true, maxLength: 512 },
  vmgenid: { type: 'string', optional: true },
  kvm: { type: 'boolean', optional: true },
  acpi: { type: 'boolean', optional: true },
  tablet: { type: 'boolean', optional: true },
  startup: { type: 'string', optional: true },
};

const INDEXED: Array<[RegExp, ParamSpec]> = [
  [/^net([0-9]|[12][0-9]|3[01])$/, { type: 'string', optional: true, format: netFormat }],
  [/^ipconfig([0-9]|[12][0-9]|3[01])$/, { type: 'string', optional: true, format: ipconfigFormat }],
  [/^scsi([0-9]|[12][0-9]|30)$/, { type: 'string', optional: true, format: driveFormat }],
  [/^virtio([0-9]|1[0-5])$/, { type: 'string', optional: true, format: driveFormat }],
  [/^sata[0-5]$/, { type: 'string', optional: true, format: driveFormat }],
  [/^ide[0-3]$/, { type: 'string', optional: true, format: driveFormat }],
  [/^hostpci([0-9]|1[0-5])$/, { type: 'string', optional: true, format: hostpciFormat }],
  [/^unused\d+$/, { type: 'string', optional: true }],
];

export function vmOptionSpec(key: string): ParamSpec | undefined {
  return VM_OPTIONS[key] ?? INDEXED.find(([re]) => re.test(key))?.[1];
}

const vmid: ParamSpec = { type: 'integer', min: 100, max: 999_999_999 };
const node: ParamSpec = { type: 'string', format: formats.node };

export const SCHEMAS = {
  createVm: { node, vmid, start: { type: 'boolean', optional: true }, pool: { type: 'string', optional: true }, storage: { type: 'string', optional: true, format: formats.storageId }, force: { type: 'boolean', optional: true }, unique: { type: 'boolean', optional: true } },
  setConfig: { node, vmid, delete: { type: 'string', optional: true }, digest: { type: 'string', optional: true, maxLength: 40 }, revert: { type: 'string', optional: true }, skiplock: { type: 'boolean', optional: true }, force: { type: 'boolean', optional: true }, background_delay: { type: 'integer', optional: true, min: 1, max: 30 } },
  getConfig: { node, vmid, current: { type: 'boolean', optional: true }, snapshot: { type: 'string', optional: true, format: formats.configId } },
  vm: { node, vmid },
  start: { node, vmid, skiplock: { type: 'boolean', optional: true }, timeout: { type: 'integer', optional: true, min: 0 } },
  stop: { node, vmid, skiplock: { type: 'boolean', optional: true }, timeout: { type: 'integer', optional: true, min: 0 }, keepActive: { type: 'boolean', optional: true }, 'overrule-shutdown': { type: 'boolean', optional: true } },
  shutdown: { node, vmid, skiplock: { type: 'boolean', optional: true }, timeout: { type: 'integer', optional: true, min: 0 }, forceStop: { type: 'boolean', optional: true }, keepActive: { type: 'boolean', optional: true } },
  reboot: { node, vmid, timeout: { type: 'integer', optional: true, min: 0 } },
  resize: { node, vmid, disk: { type: 'string', pattern: /^(ide[0-3]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5]|efidisk0|tpmstate0)$/ }, size: { type: 'string', pattern: /^\+?\d+(\.\d+)?[KMGT]?$/ }, digest: { type: 'string', optional: true, maxLength: 40 }, skiplock: { type: 'boolean', optional: true } },
  snapshotCreate: { node, vmid, snapname: { type: 'string', maxLength: 40, format: formats.configId }, description: { type: 'string', optional: true }, vmstate: { type: 'boolean', optional: true } },
  snapshotOne: { node, vmid, snapname: { type: 'string', maxLength: 40, format: formats.configId }, start: { type: 'boolean', optional: true }, force: { type: 'boolean', optional: true } },
  clone: { node, vmid, newid: vmid, name: { type: 'string', optional: true, format: formats.dnsName }, description: { type: 'string', optional: true }, full: { type: 'boolean', optional: true }, storage: { type: 'string', optional: true, format: formats.storageId }, target: { type: 'string', optional: true, format: formats.node }, pool: { type: 'string', optional: true }, format: { type: 'string', optional: true, enum: ['raw', 'qcow2', 'vmdk'] }, snapname: { type: 'string', optional: true, format: formats.configId }, bwlimit: { type: 'integer', optional: true, min: 0 } },
  destroy: { node, vmid, purge: { type: 'boolean', optional: true }, 'destroy-unreferenced-disks': { type: 'boolean', optional: true }, skiplock: { type: 'boolean', optional: true } },
  vncproxy: { node, vmid, websocket: { type: 'boolean', optional: true }, 'generate-password': { type: 'boolean', optional: true } },
  downloadUrl: { node, storage: { type: 'string', format: formats.storageId }, url: { type: 'string', pattern: /^https?:\/\/.*/ }, content: { type: 'string', enum: ['iso', 'vztmpl', 'import'] }, filename: { type: 'string', maxLength: 255 }, checksum: { type: 'string', optional: true }, 'checksum-algorithm': { type: 'string', optional: true, enum: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] }, compression: { type: 'string', optional: true }, 'verify-certificates': { type: 'boolean', optional: true } },
  upload: { node, storage: { type: 'string', format: formats.storageId }, content: { type: 'string', enum: ['iso', 'vztmpl', 'import'] }, filename: { type: 'string', maxLength: 255 }, checksum: { type: 'string', optional: true }, 'checksum-algorithm': { type: 'string', optional: true, enum: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] } },
  storageContent: { node, storage: { type: 'string', format: formats.storageId }, content: { type: 'string', optional: true }, vmid: { type: 'integer', optional: true, min: 100, max: 999_999_999 } },
  nodeStorage: { node, content: { type: 'string', optional: true }, storage: { type: 'string', optional: true }, enabled: { type: 'boolean', optional: true }, format: { type: 'boolean', optional: true }, target: { type: 'string', optional: true } },
  taskOne: { node, upid: { type: 'string' } },
  taskLog: { node, upid: { type: 'string' }, start: { type: 'integer', optional: true, min: 0 }, limit: { type: 'integer', optional: true, min: 0 }, download: { type: 'boolean', optional: true } },
  taskList: { node, source: { type: 'string', optional: true, enum: ['archive', 'active', 'all'] }, vmid: { type: 'integer', optional: true, min: 100, max: 999_999_999 }, typefilter: { type: 'string', optional: true }, limit: { type: 'integer', optional: true, min: 0 }, start: { type: 'integer', optional: true, min: 0 }, errors: { type: 'boolean', optional: true }, userfilter: { type: 'string', optional: true }, since: { type: 'integer', optional: true }, until: { type: 'integer', optional: true }, statusfilter: { type: 'string', optional: true } },
  resources: { type: { type: 'string', optional: true, enum: ['vm', 'storage', 'node', 'sdn'] } },
  nextid: { vmid: { type: 'integer', optional: true, min: 100, max: 999_999_999 } },
  ticket: { username: { type: 'string', maxLength: 64 }, password: { type: 'string' }, realm: { type: 'string', optional: true, maxLength: 32 }, otp: { type: 'string', optional: true }, 'new-format': { type: 'boolean', optional: true } },
  none: {},
  node: { node },
} satisfies Record<string, Schema>;

function checkOne(name: string, spec: ParamSpec, value: string): string | undefined {
  if (spec.type === 'integer') {
    if (!/^-?\d+$/.test(value)) return `type check ('integer') failed - got '${value}'`;
    const n = Number(value);
    if (spec.min !== undefined && n < spec.min) return `value must have a minimum value of ${spec.min}`;
    if (spec.max !== undefined && n > spec.max) return `value must have a maximum value of ${spec.max}`;
  } else if (spec.type === 'boolean') {
    if (!/^(0|1|true|false|yes|no|on|off)$/i.test(value)) return `type check ('boolean') failed - got '${value}'`;
  } else if (spec.type === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(value)) return `type check ('number') failed - got '${value}'`;
  }
  if (spec.maxLength !== undefined && value.length > spec.maxLength) return `value may only be ${spec.maxLength} characters long`;
  if (spec.enum && !spec.enum.includes(value)) return `value '${value}' does not have a value in the enumeration '${spec.enum.join(', ')}'`;
  if (spec.pattern && !spec.pattern.test(value)) return 'value does not match the regex pattern';
  void name;
  return spec.format?.(value);
}

/**
 * Verifies `params` against `schema`; `vmOptions` also admits the qemu VM options. Throws
 * ParamError listing every problem at once, as PVE does.
 */
export function verify(params: Record<string, string>, schema: Schema, vmOptions = false): void {
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const spec = schema[k] ?? (vmOptions ? vmOptionSpec(k) : undefined);
    if (!spec) {
      errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const err = checkOne(k, spec, v);
    if (err) errors[k] = err;
  }
  for (const [k, spec] of Object.entries(schema)) {
    if (!spec.optional && params[k] === undefined) errors[k] = 'property is missing and it is not optional';
  }
  if (Object.keys(errors).length) throw new ParamError(errors);
}

export const isTrue = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);
