/**
 * A stable hash of a resolved DesiredVM: SHA-256 over its canonical protobuf JSON (keys sorted,
 * defaults omitted), so map insertion order or an unset-vs-default field never changes it.
 * Secret content enters the hash, never the status: only the digest is recorded.
 */
import { createHash } from 'node:crypto';
import { toJson, type JsonValue } from '@bufbuild/protobuf';
import { DesiredVMSchema, type DesiredVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

/** Hex SHA-256 of the desired state. */
export function hashDesired(desired: DesiredVM): string {
  return createHash('sha256').update(canonicalJson(toJson(DesiredVMSchema, desired))).digest('hex');
}
