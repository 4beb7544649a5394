/**
 * Guest initialisation: cloud-init user-data and meta-data, or Ignition, from inline text or
 * Secrets in the VM's namespace, read at dispatch time. The content is never logged; problems
 * name the Secret and the keys looked for, never a value.
 *
 * Compatible with the original: user-data keys userdata, user-data, cloud-init, cloud-config;
 * meta-data keys metadata, meta-data, meta_data; inline and Secret user-data together become one
 * MIME multipart document, inline and Secret meta-data are joined by a newline.
 */
import { create } from '@bufbuild/protobuf';
import type { VirtualMachine } from '../../api/objects.ts';
import { CloudInitSchema, type CloudInit } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Problems, SecretReader } from './types.ts';

export const USER_DATA_KEYS = ['userdata', 'user-data', 'cloud-init', 'cloud-config'] as const;
export const META_DATA_KEYS = ['metadata', 'meta-data', 'meta_data'] as const;
export const IGNITION_KEYS = ['ignition', 'config.ign', 'userdata', 'user-data'] as const;
export const MULTIPART_BOUNDARY = 'VIRTRIGAUD_CLOUD_INIT_BOUNDARY';

const utf8 = new TextEncoder();

/** Several cloud-config documents as one multipart/mixed document cloud-init processes in order. */
export function multipart(parts: readonly string[]): string {
  const lines = [`Content-Type: multipart/mixed; boundary="${MULTIPART_BOUNDARY}"`, 'MIME-Version: 1.0'];
  for (const part of parts) lines.push('', `--${MULTIPART_BOUNDARY}`, 'Content-Type: text/cloud-config; charset="utf-8"', '', part);
  lines.push('', `--${MULTIPART_BOUNDARY}--`, '');
  return lines.join('\n');
}

interface Source {
  inline?: string;
  secretRef?: { name: string };
}

export async function resolveCloudInit(vm: VirtualMachine, secrets: SecretReader, problems: Problems): Promise<CloudInit | undefined> {
  const namespace = vm.metadata.namespace ?? '';
  const read = new Map<string, Promise<Record<string, Uint8Array> | undefined>>();
  const secretValue = async (ref: { name: string }, keys: readonly string[], what: string): Promise<string | undefined> => {
    let p = read.get(ref.name);
    if (!p) read.set(ref.name, (p = secrets.read(namespace, ref.name)));
    const data = await p;
    if (!data) return problems.miss(`Secret ${namespace}/${ref.name}`);
    for (const key of keys) {
      const v = data[key];
      if (v !== undefined) return Buffer.from(v).toString('utf8');
    }
    return problems.miss(`Secret ${namespace}/${ref.name} key for ${what} (one of ${keys.join(', ')})`);
  };
  const parts = async (src: Source | undefined, keys: readonly string[], what: string): Promise<string[]> => {
    if (!src) return [];
    const out: string[] = [];
    if (src.inline) out.push(src.inline);
    if (src.secretRef) {
      const v = await secretValue(src.secretRef, keys, what);
      if (v !== undefined) out.push(v);
    }
    return out;
  };

  const user = await parts(vm.spec.userData?.cloudInit, USER_DATA_KEYS, 'user-data');
  const meta = await parts(vm.spec.metaData?.cloudInit, META_DATA_KEYS, 'meta-data');
  const ignitionSource = vm.spec.userData?.ignition;
  if (ignitionSource?.inline && ignitionSource.secretRef) {
    problems.bad('spec.userData.ignition: set inline or secretRef, not both');
  }
  const ignition = await parts(ignitionSource, IGNITION_KEYS, 'ignition');
  if (!user.length && !meta.length && !ignition.length) return undefined;
  return create(CloudInitSchema, {
    userData: user.length ? utf8.encode(user.length === 1 ? user[0]! : multipart(user)) : new Uint8Array(),
    metaData: meta.length ? utf8.encode(meta.join('\n')) : new Uint8Array(),
    ignition: ignition.length ? utf8.encode(ignition[0]!) : new Uint8Array(),
  });
}
