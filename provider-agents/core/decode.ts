/**
 * Turns a message from the command subject into a command the agent can act on, or an
 * InvalidCommandError saying what was expected and what was got (the runtime terms the message and
 * records it on the dead-letter subject). Pure: no I/O.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { CommandSchema, type Command } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { parseObjectSubject, type ProviderKey } from '../../proto/bus/subjects.ts';
import { InvalidCommandError } from './errors.ts';

export type OpName = NonNullable<Command['op']['case']>;

/** Operations that act on a VM other than the command's object (snapshots and clones). */
const VM_SCOPED: ReadonlySet<OpName> = new Set(['snapshotCreate', 'snapshotRevert', 'snapshotDelete', 'clone', 'exportDisk', 'importDisk']);

export interface DecodedCommand {
  command: Command;
  op: OpName;
  commandId: string;
  /** The command's object (VM, VMSnapshot, VMClone…): events go to its subject. */
  objectUid: string;
  /** The VM the command acts on: the lease key. */
  vmUid: string;
  generation: bigint;
}

const UID = /^[A-Za-z0-9_-]+$/;

/** The protobuf field numbers of Command.op this agent knows. */
const KNOWN_OP_FIELDS = new Set(CommandSchema.oneofs.find((o) => o.name === 'op')?.fields.map((f) => f.number) ?? []);

export function decodeCommand(subject: string, data: Uint8Array, provider: ProviderKey): DecodedCommand {
  let command: Command;
  try {
    command = fromBinary(CommandSchema, data);
  } catch (err) {
    throw new InvalidCommandError(`expected a virtrigaud.bus.v1.Command, got ${data.length} bytes that do not decode: ${(err as Error).message}`, 'malformed', { cause: err });
  }
  const op = command.op.case;
  if (op === undefined) {
    const unknown = (command.$unknown ?? []).map((f) => f.no).filter((no) => no >= 10 && !KNOWN_OP_FIELDS.has(no));
    if (unknown.length) {
      throw new InvalidCommandError(`expected one of the operations ${[...KNOWN_OP_FIELDS].join(', ')}, got unknown operation field ${unknown.join(', ')}`, 'unknown_op');
    }
    throw new InvalidCommandError('expected a command with an operation, got none', 'unknown_op');
  }
  const meta = command.meta;
  if (!meta?.commandId) throw new InvalidCommandError('expected meta.command_id, got none', 'invalid');
  const objectUid = meta.object?.uid ?? '';
  if (!UID.test(objectUid)) throw new InvalidCommandError(`expected meta.object.uid to be a Kubernetes UID, got ${JSON.stringify(objectUid)}`, 'invalid');

  const parsed = parseObjectSubject(subject);
  if (!parsed || parsed.kind !== 'cmd') throw new InvalidCommandError(`expected a command subject vr.cmd.<ns>.<provider>.<uid>, got ${subject}`, 'invalid');
  if (parsed.objectUid !== objectUid) {
    throw new InvalidCommandError(`expected the subject's uid ${parsed.objectUid} to equal meta.object.uid, got ${objectUid}`, 'invalid');
  }
  if (parsed.provider.namespace !== provider.namespace || parsed.provider.name !== provider.name) {
    throw new InvalidCommandError(`expected a command for provider ${provider.namespace}/${provider.name}, got subject ${subject}`, 'invalid');
  }
  const p = meta.provider;
  if (p && (p.namespace || p.name) && (p.namespace !== provider.namespace || p.name !== provider.name)) {
    throw new InvalidCommandError(`expected meta.provider ${provider.namespace}/${provider.name}, got ${p.namespace}/${p.name}`, 'invalid');
  }

  let vmUid = meta.vm?.uid || objectUid;
  if (VM_SCOPED.has(op)) {
    vmUid = meta.vm?.uid ?? '';
    if (!UID.test(vmUid)) throw new InvalidCommandError(`expected meta.vm.uid for a ${op} command, got ${JSON.stringify(vmUid)}`, 'invalid');
  }
  if (op === 'clone' && !UID.test(command.op.value.target?.uid ?? '')) {
    throw new InvalidCommandError(`expected clone.target.uid, got ${JSON.stringify(command.op.value.target?.uid ?? '')}`, 'invalid');
  }
  return { command, op, commandId: meta.commandId, objectUid, vmUid, generation: meta.object?.generation ?? 0n };
}
