/**
 * The parts of libvirt's RPC protocol this agent speaks: message framing constants
 * (src/rpc/virnetprotocol.x), the keepalive program (src/rpc/virkeepaliveprotocol.x) and the
 * REMOTE program's procedures we call, with their argument and reply layouts
 * (src/remote/remote_protocol.x). Numbers and layouts are protocol facts; the table holds only
 * what the driver uses, each entry typed end to end.
 */
import { XdrError, type XdrReader, type XdrWriter } from './xdr.ts';

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROC_PING = 1;
export const KEEPALIVE_PROC_PONG = 2;

export const enum MessageType {
  Call = 0,
  Reply = 1,
  Message = 2,
  Stream = 3,
  CallWithFds = 4,
  ReplyWithFds = 5,
}

export const enum MessageStatus {
  Ok = 0,
  Error = 1,
  Continue = 2,
}

/** Length word + header, in bytes. */
export const LENGTH_BYTES = 4;
export const HEADER_BYTES = 24;
/** VIR_NET_MESSAGE_MAX: the largest message (without its length word) either side accepts. */
export const MESSAGE_MAX = 16 * 1024 * 1024;
/** Largest data payload of one stream packet (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, what libvirt's own client sends). */
export const STREAM_CHUNK = 256 * 1024;
/** Strings are bounded by the message; this is the decoder's sanity bound. */
const STRING_MAX = MESSAGE_MAX;
const LIST_MAX = 65536;

export interface Header {
  prog: number;
  vers: number;
  proc: number;
  type: MessageType;
  serial: number;
  status: MessageStatus;
}

export function writeHeader(w: XdrWriter, h: Header): void {
  w.uint(h.prog).uint(h.vers).int(h.proc).int(h.type).uint(h.serial).int(h.status);
}

export function readHeader(r: XdrReader): Header {
  return { prog: r.uint(), vers: r.uint(), proc: r.int(), type: r.int(), serial: r.uint(), status: r.int() };
}

// --- object references as the protocol carries them ---

export interface DomainRef {
  name: string;
  /** 16 raw bytes. */
  uuid: Buffer;
  /** Running domain id, -1 when inactive. */
  id: number;
}
export interface PoolRef {
  name: string;
  uuid: Buffer;
}
export interface VolRef {
  pool: string;
  name: string;
  key: string;
}
export interface SnapshotRef {
  name: string;
  dom: DomainRef;
}

/** remote_error: what libvirt says went wrong. */
export interface RemoteError {
  code: number;
  domain: number;
  message: string | undefined;
  level: number;
  str1: string | undefined;
  str2: string | undefined;
  str3: string | undefined;
  int1: number;
  int2: number;
}

const str = (r: XdrReader) => r.string(STRING_MAX);
const optStr = (r: XdrReader) => r.optional(str);
const putStr = (w: XdrWriter, s: string) => w.string(s);
const putOptStr = (w: XdrWriter, s: string | undefined) => w.optional(s, putStr);

export function readDomain(r: XdrReader): DomainRef {
  return { name: str(r), uuid: r.fixedOpaque(16), id: r.int() };
}
export function writeDomain(w: XdrWriter, d: DomainRef): void {
  w.string(d.name).fixedOpaque(d.uuid, 16).int(d.id);
}
const readNetwork = (r: XdrReader) => ({ name: str(r), uuid: r.fixedOpaque(16) });
const readPool = (r: XdrReader): PoolRef => ({ name: str(r), uuid: r.fixedOpaque(16) });
const writePool = (w: XdrWriter, p: PoolRef) => w.string(p.name).fixedOpaque(p.uuid, 16);
const readVol = (r: XdrReader): VolRef => ({ pool: str(r), name: str(r), key: str(r) });
const writeVol = (w: XdrWriter, v: VolRef) => w.string(v.pool).string(v.name).string(v.key);
const readSnapshot = (r: XdrReader): SnapshotRef => ({ name: str(r), dom: readDomain(r) });
const writeSnapshot = (w: XdrWriter, s: SnapshotRef) => {
  w.string(s.name);
  writeDomain(w, s.dom);
};

export function readRemoteError(r: XdrReader): RemoteError {
  const code = r.int();
  const domain = r.int();
  const message = optStr(r);
  const level = r.int();
  r.optional(readDomain);
  const str1 = optStr(r);
  const str2 = optStr(r);
  const str3 = optStr(r);
  const int1 = r.int();
  const int2 = r.int();
  r.optional(readNetwork);
  return { code, domain, message, level, str1, str2, str3, int1, int2 };
}

// --- procedures ---

export interface Procedure<A, R> {
  readonly id: number;
  readonly name: string;
  /** Writes the arguments (nothing for `void`). */
  readonly args: (w: XdrWriter, a: A) => void;
  /** Reads the reply (nothing for `void`). */
  readonly ret: (r: XdrReader) => R;
  /** The call starts a stream the client writes to (upload). */
  readonly writeStream?: boolean;
}

const none = () => undefined;
const proc = <A, R>(id: number, name: string, args: (w: XdrWriter, a: A) => void, ret: (r: XdrReader) => R, writeStream = false): Procedure<A, R> =>
  ({ id, name, args, ret, writeStream });

const dom = (w: XdrWriter, a: { dom: DomainRef }) => writeDomain(w, a.dom);
const domFlags = (w: XdrWriter, a: { dom: DomainRef; flags: number }) => {
  writeDomain(w, a.dom);
  w.uint(a.flags);
};
const domRet = (r: XdrReader) => readDomain(r);

export interface DomainInfo {
  state: number;
  maxMemKiB: bigint;
  memoryKiB: bigint;
  nrVirtCpu: number;
  cpuTime: bigint;
}

export interface InterfaceAddresses {
  name: string;
  hwaddr: string | undefined;
  addrs: { type: number; addr: string; prefix: number }[];
}

export const P = {
  connectOpen: proc(1, 'ConnectOpen', (w, a: { name: string | undefined; flags: number }) => {
    putOptStr(w, a.name);
    w.uint(a.flags);
  }, none),
  connectClose: proc(2, 'ConnectClose', none, none),
  connectGetVersion: proc(4, 'ConnectGetVersion', none, (r) => r.uhyper()),
  connectGetCapabilities: proc(7, 'ConnectGetCapabilities', none, str),
  domainCreate: proc(9, 'DomainCreate', dom, none),
  domainDefineXml: proc(11, 'DomainDefineXML', (w, a: { xml: string }) => putStr(w, a.xml), domRet),
  domainDestroy: proc(12, 'DomainDestroy', dom, none),
  domainGetXmlDesc: proc(14, 'DomainGetXMLDesc', domFlags, str),
  domainGetInfo: proc(16, 'DomainGetInfo', dom, (r): DomainInfo => ({
    state: r.uint(), maxMemKiB: r.uhyper(), memoryKiB: r.uhyper(), nrVirtCpu: r.uint(), cpuTime: r.uhyper(),
  })),
  domainLookupByName: proc(23, 'DomainLookupByName', (w, a: { name: string }) => putStr(w, a.name), domRet),
  domainLookupByUuid: proc(24, 'DomainLookupByUUID', (w, a: { uuid: Buffer }) => w.fixedOpaque(a.uuid, 16), domRet),
  domainReboot: proc(27, 'DomainReboot', domFlags, none),
  domainResume: proc(28, 'DomainResume', dom, none),
  connectGetHostname: proc(59, 'ConnectGetHostname', none, str),
  connectSupportsFeature: proc(60, 'ConnectSupportsFeature', (w, a: { feature: number }) => w.int(a.feature), (r) => r.int() !== 0),
  authList: proc(66, 'AuthList', none, (r) => r.array((x) => x.int(), 20)),
  storagePoolCreateXml: proc(76, 'StoragePoolCreateXML', (w, a: { xml: string; flags: number }) => {
    w.string(a.xml).uint(a.flags);
  }, readPool),
  storagePoolDestroy: proc(80, 'StoragePoolDestroy', (w, a: { pool: PoolRef }) => writePool(w, a.pool), none),
  storagePoolRefresh: proc(83, 'StoragePoolRefresh', (w, a: { pool: PoolRef; flags: number }) => {
    writePool(w, a.pool);
    w.uint(a.flags);
  }, none),
  storagePoolLookupByName: proc(84, 'StoragePoolLookupByName', (w, a: { name: string }) => putStr(w, a.name), readPool),
  storagePoolGetXmlDesc: proc(88, 'StoragePoolGetXMLDesc', (w, a: { pool: PoolRef; flags: number }) => {
    writePool(w, a.pool);
    w.uint(a.flags);
  }, str),
  storageVolCreateXml: proc(93, 'StorageVolCreateXML', (w, a: { pool: PoolRef; xml: string; flags: number }) => {
    writePool(w, a.pool);
    w.string(a.xml).uint(a.flags);
  }, readVol),
  storageVolDelete: proc(94, 'StorageVolDelete', (w, a: { vol: VolRef; flags: number }) => {
    writeVol(w, a.vol);
    w.uint(a.flags);
  }, none),
  storageVolLookupByName: proc(95, 'StorageVolLookupByName', (w, a: { pool: PoolRef; name: string }) => {
    writePool(w, a.pool);
    w.string(a.name);
  }, readVol),
  storageVolLookupByPath: proc(97, 'StorageVolLookupByPath', (w, a: { path: string }) => putStr(w, a.path), readVol),
  storageVolGetInfo: proc(98, 'StorageVolGetInfo', (w, a: { vol: VolRef }) => writeVol(w, a.vol),
    (r) => ({ type: r.int(), capacity: r.uhyper(), allocation: r.uhyper() })),
  storageVolGetXmlDesc: proc(99, 'StorageVolGetXMLDesc', (w, a: { vol: VolRef; flags: number }) => {
    writeVol(w, a.vol);
    w.uint(a.flags);
  }, str),
  storageVolGetPath: proc(100, 'StorageVolGetPath', (w, a: { vol: VolRef }) => writeVol(w, a.vol), str),
  storageVolCreateXmlFrom: proc(125, 'StorageVolCreateXMLFrom', (w, a: { pool: PoolRef; xml: string; clone: VolRef; flags: number }) => {
    writePool(w, a.pool);
    w.string(a.xml);
    writeVol(w, a.clone);
    w.uint(a.flags);
  }, readVol),
  domainIsActive: proc(150, 'DomainIsActive', dom, (r) => r.int() !== 0),
  domainAttachDeviceFlags: proc(160, 'DomainAttachDeviceFlags', (w, a: { dom: DomainRef; xml: string; flags: number }) => {
    writeDomain(w, a.dom);
    w.string(a.xml).uint(a.flags);
  }, none),
  domainSnapshotCreateXml: proc(185, 'DomainSnapshotCreateXML', (w, a: { dom: DomainRef; xml: string; flags: number }) => {
    writeDomain(w, a.dom);
    w.string(a.xml).uint(a.flags);
  }, readSnapshot),
  domainSnapshotGetXmlDesc: proc(186, 'DomainSnapshotGetXMLDesc', (w, a: { snap: SnapshotRef; flags: number }) => {
    writeSnapshot(w, a.snap);
    w.uint(a.flags);
  }, str),
  domainSnapshotLookupByName: proc(189, 'DomainSnapshotLookupByName', (w, a: { dom: DomainRef; name: string; flags: number }) => {
    writeDomain(w, a.dom);
    w.string(a.name).uint(a.flags);
  }, readSnapshot),
  domainRevertToSnapshot: proc(192, 'DomainRevertToSnapshot', (w, a: { snap: SnapshotRef; flags: number }) => {
    writeSnapshot(w, a.snap);
    w.uint(a.flags);
  }, none),
  domainSnapshotDelete: proc(193, 'DomainSnapshotDelete', (w, a: { snap: SnapshotRef; flags: number }) => {
    writeSnapshot(w, a.snap);
    w.uint(a.flags);
  }, none),
  domainCreateWithFlags: proc(196, 'DomainCreateWithFlags', domFlags, domRet),
  domainSetVcpusFlags: proc(199, 'DomainSetVcpusFlags', (w, a: { dom: DomainRef; nvcpus: number; flags: number }) => {
    writeDomain(w, a.dom);
    w.uint(a.nvcpus).uint(a.flags);
  }, none),
  domainSetMemoryFlags: proc(204, 'DomainSetMemoryFlags', (w, a: { dom: DomainRef; memoryKiB: bigint; flags: number }) => {
    writeDomain(w, a.dom);
    w.uhyper(a.memoryKiB).uint(a.flags);
  }, none),
  storageVolUpload: proc(208, 'StorageVolUpload', (w, a: { vol: VolRef; offset: bigint; length: bigint; flags: number }) => {
    writeVol(w, a.vol);
    w.uhyper(a.offset).uhyper(a.length).uint(a.flags);
  }, none, true),
  domainGetState: proc(212, 'DomainGetState', domFlags, (r) => ({ state: r.int(), reason: r.int() })),
  domainUndefineFlags: proc(231, 'DomainUndefineFlags', domFlags, none),
  domainDestroyFlags: proc(234, 'DomainDestroyFlags', domFlags, none),
  domainBlockResize: proc(251, 'DomainBlockResize', (w, a: { dom: DomainRef; disk: string; size: bigint; flags: number }) => {
    writeDomain(w, a.dom);
    w.string(a.disk).uhyper(a.size).uint(a.flags);
  }, none),
  domainShutdownFlags: proc(258, 'DomainShutdownFlags', domFlags, none),
  storageVolResize: proc(260, 'StorageVolResize', (w, a: { vol: VolRef; capacity: bigint; flags: number }) => {
    writeVol(w, a.vol);
    w.uhyper(a.capacity).uint(a.flags);
  }, none),
  domainSetMetadata: proc(264, 'DomainSetMetadata', (w, a: { dom: DomainRef; type: number; metadata: string | undefined; key: string | undefined; uri: string | undefined; flags: number }) => {
    writeDomain(w, a.dom);
    w.int(a.type);
    putOptStr(w, a.metadata);
    putOptStr(w, a.key);
    putOptStr(w, a.uri);
    w.uint(a.flags);
  }, none),
  domainGetMetadata: proc(265, 'DomainGetMetadata', (w, a: { dom: DomainRef; type: number; uri: string | undefined; flags: number }) => {
    writeDomain(w, a.dom);
    w.int(a.type);
    putOptStr(w, a.uri);
    w.uint(a.flags);
  }, str),
  connectListAllDomains: proc(273, 'ConnectListAllDomains', (w, a: { flags: number }) => w.int(1).uint(a.flags),
    (r) => {
      const domains = r.array(readDomain, LIST_MAX);
      r.uint();
      return domains;
    }),
  domainListAllSnapshots: proc(274, 'DomainListAllSnapshots', (w, a: { dom: DomainRef; flags: number }) => {
    writeDomain(w, a.dom);
    w.int(1).uint(a.flags);
  }, (r) => {
    const snaps = r.array(readSnapshot, LIST_MAX);
    r.int();
    return snaps;
  }),
  storagePoolListAllVolumes: proc(282, 'StoragePoolListAllVolumes', (w, a: { pool: PoolRef; flags: number }) => {
    writePool(w, a.pool);
    w.int(1).uint(a.flags);
  }, (r) => {
    const vols = r.array(readVol, LIST_MAX);
    r.uint();
    return vols;
  }),
  connectDomainEventCallbackRegisterAny: proc(316, 'ConnectDomainEventCallbackRegisterAny', (w, a: { eventId: number; dom: DomainRef | undefined }) => {
    w.int(a.eventId);
    w.optional(a.dom, writeDomain);
  }, (r) => r.int()),
  connectDomainEventCallbackDeregisterAny: proc(317, 'ConnectDomainEventCallbackDeregisterAny', (w, a: { callbackId: number }) => w.int(a.callbackId), none),
  connectGetDomainCapabilities: proc(342, 'ConnectGetDomainCapabilities', (w, a: { emulator?: string; arch?: string; machine?: string; virtType?: string; flags: number }) => {
    putOptStr(w, a.emulator);
    putOptStr(w, a.arch);
    putOptStr(w, a.machine);
    putOptStr(w, a.virtType);
    w.uint(a.flags);
  }, str),
  domainInterfaceAddresses: proc(353, 'DomainInterfaceAddresses', (w, a: { dom: DomainRef; source: number; flags: number }) => {
    writeDomain(w, a.dom);
    w.uint(a.source).uint(a.flags);
  }, (r): InterfaceAddresses[] => r.array((x) => ({
    name: str(x),
    hwaddr: optStr(x),
    addrs: x.array((y) => ({ type: y.int(), addr: str(y), prefix: y.uint() }), 2048),
  }), 2048)),
} as const;

// --- asynchronous messages (events) ---

export const EVENT_PROC_LIFECYCLE = 318;
export const EVENT_PROC_METADATA_CHANGE = 379;

export interface LifecycleEvent {
  callbackId: number;
  dom: DomainRef;
  event: number;
  detail: number;
}

export interface MetadataChangeEvent {
  callbackId: number;
  dom: DomainRef;
  type: number;
  nsuri: string | undefined;
}

export function readLifecycleEvent(r: XdrReader): LifecycleEvent {
  return { callbackId: r.int(), dom: readDomain(r), event: r.int(), detail: r.int() };
}

export function readMetadataChangeEvent(r: XdrReader): MetadataChangeEvent {
  return { callbackId: r.int(), dom: readDomain(r), type: r.int(), nsuri: optStr(r) };
}

// --- enums and flags from libvirt's public headers ---

export const VIR_DRV_FEATURE_PROGRAM_KEEPALIVE = 10;
export const AUTH_NONE = 0;
export const AUTH_SASL = 1;
export const AUTH_POLKIT = 2;

export const DomainEventId = { Lifecycle: 0, MetadataChange: 23 } as const;
/** virDomainEventType */
export const LifecycleEventType = {
  Defined: 0, Undefined: 1, Started: 2, Suspended: 3, Resumed: 4, Stopped: 5, Shutdown: 6, PmSuspended: 7, Crashed: 8,
} as const;
/** virDomainState */
export const DomainState = {
  NoState: 0, Running: 1, Blocked: 2, Paused: 3, Shutdown: 4, Shutoff: 5, Crashed: 6, PmSuspended: 7,
} as const;

export const AFFECT_CURRENT = 0;
export const AFFECT_LIVE = 1;
export const AFFECT_CONFIG = 2;
export const VCPU_MAXIMUM = 4;
export const MEM_MAXIMUM = 4;
export const DOMAIN_XML_SECURE = 1;
export const DOMAIN_XML_INACTIVE = 2;
export const METADATA_ELEMENT = 2;
export const UNDEFINE_MANAGED_SAVE = 1;
export const UNDEFINE_SNAPSHOTS_METADATA = 2;
export const UNDEFINE_NVRAM = 4;
export const SNAPSHOT_DELETE_DEFAULT = 0;
export const BLOCK_RESIZE_BYTES = 1;
export const INTERFACE_ADDRESSES_SRC_LEASE = 0;
export const INTERFACE_ADDRESSES_SRC_AGENT = 1;
export const SHUTDOWN_DEFAULT = 0;
export const SHUTDOWN_ACPI_POWER_BTN = 1;

/** virErrorNumber values the driver tells apart. */
export const ErrorCode = {
  InternalError: 1,
  NoSupport: 3,
  InvalidArg: 8,
  OperationFailed: 9,
  XmlError: 27,
  DomExist: 28,
  OperationDenied: 29,
  SystemError: 38,
  Rpc: 39,
  NoDomain: 42,
  NoNetwork: 43,
  AuthFailed: 45,
  NoStoragePool: 49,
  NoStorageVol: 50,
  OperationInvalid: 55,
  ConfigUnsupported: 67,
  OperationTimeout: 68,
  NoDomainSnapshot: 72,
  ArgumentUnsupported: 74,
  NoDomainMetadata: 80,
  OperationUnsupported: 84,
  AgentUnresponsive: 86,
  StorageVolExist: 90,
} as const;

/** A UUID as libvirt prints it (8-4-4-4-12 lowercase hex). */
export function uuidString(uuid: Buffer): string {
  const h = uuid.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new XdrError(`expected a UUID (32 hex digits), got ${JSON.stringify(uuid)}`);
  return Buffer.from(hex, 'hex');
}
