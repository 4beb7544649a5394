/**
 * The original provider.v1 service carries specs as JSON inside strings (`class_json`, …) with
 * undocumented key casing: Go structs without tags give `CPU`, `MemoryMiB`, `TemplateName`; the CRDs
 * give `cpu`, `memory: "4Gi"`. We accept any casing (keys compared without case, `_` and `-`) but
 * are strict about types: a value of the wrong type is an InvalidArgument naming the field path,
 * never silently ignored. Pure functions.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ClassSpecSchema, DiskImageUrlSchema, DiskSpecSchema, ExistingDiskSchema, Firmware, ImageSpecSchema, NetworkSpecSchema, PlacementSchema,
  VSphereTemplateSchema,
  type ClassSpec, type DiskSpec, type ImageSpec, type NetworkSpec, type Placement,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

type Json = Record<string, unknown>;

export function invalid(path: string, expected: string, got: unknown): ConnectError {
  const shown = typeof got === 'string' ? JSON.stringify(got.length > 80 ? `${got.slice(0, 80)}…` : got) : Array.isArray(got) ? 'an array' : got === null ? 'null' : typeof got;
  return new ConnectError(`${path}: expected ${expected}, got ${shown}`, Code.InvalidArgument);
}

const norm = (k: string) => k.toLowerCase().replace(/[_-]/g, '');

/** The value under any of `names`, compared without case, `_` or `-`. */
export function field(obj: Json, ...names: string[]): unknown {
  const wanted = new Set(names.map(norm));
  for (const [k, v] of Object.entries(obj)) if (wanted.has(norm(k))) return v;
  return undefined;
}

/** Parses a JSON document field; empty means absent. */
export function parseJson(path: string, text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConnectError(`${path}: expected JSON, got invalid JSON (${(err as Error).message})`, Code.InvalidArgument);
  }
}

export function parseObject(path: string, text: string): Json | undefined {
  const v = parseJson(path, text);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(path, 'a JSON object', v);
  return v as Json;
}

export function parseArray(path: string, text: string): Json[] {
  const v = parseJson(path, text);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(path, 'a JSON array', v);
  return v.map((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw invalid(`${path}[${i}]`, 'a JSON object', item);
    return item as Json;
  });
}

function str(path: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(path, 'a string', v);
  return v;
}

function int(path: string, v: unknown, min: number, max: number): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw invalid(path, `a whole number from ${min} to ${max}`, v);
  return n;
}

function bool(path: string, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(path, 'true or false', v);
  return v;
}

const QUANTITY = /^(\d+)(Ki|Mi|Gi|Ti|K|M|G|T)?$/;
const TO_MIB: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, K: 1e3 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576, T: 1e12 / 1048576 };

/** Memory in MiB: a number of MiB, or a Kubernetes quantity string ("4Gi", "512Mi"). */
export function memoryMib(path: string, v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(int(path, v, 1, 64 * 1024 * 1024));
  if (typeof v === 'string') {
    const m = QUANTITY.exec(v.trim());
    if (m) {
      const mib = Number(m[1]) * (m[2] ? TO_MIB[m[2]]! : 1 / 1048576);
      if (mib >= 1 && Number.isFinite(mib)) return BigInt(Math.ceil(mib));
    }
  }
  throw invalid(path, 'MiB as a number or a quantity such as "4Gi"', v);
}

function firmware(path: string, v: unknown): Firmware {
  const s = str(path, v).toUpperCase();
  if (s === '') return Firmware.UNSPECIFIED;
  if (s === 'BIOS') return Firmware.BIOS;
  if (s === 'UEFI' || s === 'EFI') return Firmware.UEFI;
  throw invalid(path, 'BIOS, UEFI or EFI', v);
}

function stringMap(path: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(path, 'an object of strings', v);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Json)) out[k] = str(`${path}.${k}`, val);
  return out;
}

/** VMClass (class_json, or the class part of desired_json). */
export function toClassSpec(path: string, o: Json | undefined): ClassSpec | undefined {
  if (!o) return undefined;
  const memory = field(o, 'memoryMiB', 'memory');
  const perf = field(o, 'performanceProfile');
  const sec = field(o, 'securityProfile');
  const p = perf && typeof perf === 'object' ? (perf as Json) : {};
  const s = sec && typeof sec === 'object' ? (sec as Json) : {};
  return create(ClassSpecSchema, {
    name: str(`${path}.name`, field(o, 'name')),
    cpus: int(`${path}.cpu`, field(o, 'cpu', 'cpus', 'vcpus'), 1, 4096),
    memoryMib: memoryMib(`${path}.memoryMiB`, memory),
    firmware: firmware(`${path}.firmware`, field(o, 'firmware')),
    secureBoot: bool(`${path}.securityProfile.secureBoot`, field(s, 'secureBoot')),
    tpm: bool(`${path}.securityProfile.tpmEnabled`, field(s, 'tpmEnabled', 'tpm')),
    nestedVirtualization: bool(`${path}.performanceProfile.nestedVirtualization`, field(p, 'nestedVirtualization')),
    cpuHotAdd: bool(`${path}.performanceProfile.cpuHotAddEnabled`, field(p, 'cpuHotAddEnabled', 'cpuHotAdd')),
    memoryHotAdd: bool(`${path}.performanceProfile.memoryHotAddEnabled`, field(p, 'memoryHotAddEnabled', 'memoryHotAdd')),
    extraConfig: stringMap(`${path}.extraConfig`, field(o, 'extraConfig')),
  });
}

/** VMImage (image_json): a vSphere template, a URL to download, or a disk path already there. */
export function toImageSpec(path: string, o: Json | undefined): ImageSpec | undefined {
  if (!o) return undefined;
  const template = str(`${path}.templateName`, field(o, 'templateName', 'template'));
  const url = str(`${path}.url`, field(o, 'url'));
  const diskPath = str(`${path}.path`, field(o, 'path'));
  const format = str(`${path}.format`, field(o, 'format'));
  if (template) return create(ImageSpecSchema, { source: { case: 'vsphereTemplate', value: create(VSphereTemplateSchema, { templateName: template }) } });
  if (url) {
    return create(ImageSpecSchema, {
      source: {
        case: 'url',
        value: create(DiskImageUrlSchema, {
          url, format,
          checksum: str(`${path}.checksum`, field(o, 'checksum')),
          checksumType: str(`${path}.checksumType`, field(o, 'checksumType')),
        }),
      },
    });
  }
  if (diskPath) return create(ImageSpecSchema, { source: { case: 'existingDisk', value: create(ExistingDiskSchema, { path: diskPath, format }) } });
  return create(ImageSpecSchema, {});
}

export function toNetworks(path: string, items: Json[]): NetworkSpec[] {
  return items.map((o, i) => {
    const at = `${path}[${i}]`;
    const portgroup = str(`${at}.portgroup`, field(o, 'portgroup'));
    const bridge = str(`${at}.bridge`, field(o, 'bridge'));
    const network = str(`${at}.networkName`, field(o, 'networkName', 'network'));
    return create(NetworkSpecSchema, {
      name: str(`${at}.name`, field(o, 'name')),
      network: portgroup || bridge || network,
      kind: portgroup ? 'portgroup' : bridge ? 'bridge' : network ? 'network' : '',
      vlan: int(`${at}.vlan`, field(o, 'vlan'), 0, 4094),
      model: str(`${at}.model`, field(o, 'model')),
      macAddress: str(`${at}.macAddress`, field(o, 'macAddress', 'mac')),
      ipAddress: str(`${at}.staticIP`, field(o, 'staticIP', 'ipAddress')),
    });
  });
}

export function toDisks(path: string, items: Json[]): DiskSpec[] {
  return items.map((o, i) => create(DiskSpecSchema, {
    name: str(`${path}[${i}].name`, field(o, 'name')),
    sizeGib: int(`${path}[${i}].sizeGiB`, field(o, 'sizeGiB', 'size'), 0, 1024 * 1024),
    type: str(`${path}[${i}].type`, field(o, 'type')),
  }));
}

export function toPlacement(path: string, o: Json | undefined): Placement | undefined {
  if (!o) return undefined;
  return create(PlacementSchema, {
    datacenter: str(`${path}.datacenter`, field(o, 'datacenter')),
    cluster: str(`${path}.cluster`, field(o, 'cluster')),
    host: str(`${path}.host`, field(o, 'host')),
    resourcePool: str(`${path}.resourcePool`, field(o, 'resourcePool')),
    folder: str(`${path}.folder`, field(o, 'folder')),
    datastore: str(`${path}.datastore`, field(o, 'datastore')),
    node: str(`${path}.node`, field(o, 'node')),
  });
}

/**
 * Reconfigure's desired_json: the class fields at the top level (`{"CPU":4,"MemoryMiB":8192}`) or
 * under `class`, and optionally `disks`.
 */
export function toDesiredResources(path: string, text: string): { class: ClassSpec; disks: DiskSpec[] } {
  const o = parseObject(path, text);
  if (!o) throw invalid(path, 'a JSON object with the desired CPU, memory or disks', text);
  const nested = field(o, 'class');
  if (nested !== undefined && (typeof nested !== 'object' || nested === null || Array.isArray(nested))) throw invalid(`${path}.class`, 'a JSON object', nested);
  const cls = toClassSpec(nested ? `${path}.class` : path, (nested as Json | undefined) ?? o)!;
  const disks = field(o, 'disks');
  if (disks !== undefined && !Array.isArray(disks)) throw invalid(`${path}.disks`, 'a JSON array', disks);
  return { class: cls, disks: disks ? toDisks(`${path}.disks`, parseArray(`${path}.disks`, JSON.stringify(disks))) : [] };
}
