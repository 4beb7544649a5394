/** Which bus messages an agent acts on, and what it says about the ones it rejects. */
import { create, toBinary } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { subjects } from '../../proto/bus/subjects.ts';
import { CommandSchema, ObjectRefSchema, SnapshotCreateSchema, type Command } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { decodeCommand } from '../../provider-agents/core/decode.ts';
import { InvalidCommandError } from '../../provider-agents/core/errors.ts';
import { aReconcile } from '../support/agent-bus.ts';

const provider = { namespace: 'infra', name: 'vc1' };
const uid = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const aCommand = (change: (c: Command) => void = () => {}): Command => {
  const c = aReconcile({ provider, uid, generation: 7n });
  change(c);
  return c;
};
const bytes = (c: Command) => toBinary(CommandSchema, c);

function rejection(subject: string, data: Uint8Array): { kind: string; message: string } {
  try {
    decodeCommand(subject, data, provider);
  } catch (err) {
    assert.ok(err instanceof InvalidCommandError);
    return { kind: err.kind, message: err.message };
  }
  throw new Error('expected a rejection');
}

describe('command decoding', () => {
  it('accepts a reconcile and names its object, VM, generation and command id', () => {
    const d = decodeCommand(subjects.command(provider, uid), bytes(aCommand()), provider);
    assert.deepEqual({ op: d.op, objectUid: d.objectUid, vmUid: d.vmUid, generation: d.generation, commandId: d.commandId },
      { op: 'reconcile', objectUid: uid, vmUid: uid, generation: 7n, commandId: `${uid}-7-reconcile` });
  });

  it('takes the lease key of a snapshot command from meta.vm', () => {
    const snapUid = 'aaaaaaaa-0000-0000-0000-000000000001';
    const c = aCommand((c) => {
      c.meta!.object = create(ObjectRefSchema, { namespace: 'default', name: 'snap', uid: snapUid, generation: 1n });
      c.op = { case: 'snapshotCreate', value: create(SnapshotCreateSchema, { snapshotUid: snapUid, name: 's' }) };
    });
    const d = decodeCommand(subjects.command(provider, snapUid), bytes(c), provider);
    assert.deepEqual([d.objectUid, d.vmUid], [snapUid, uid]);
  });

  const table: Array<[string, string, Uint8Array, string, RegExp]> = [
    ['rejects bytes that are not a Command as malformed', subjects.command(provider, uid), new TextEncoder().encode('{"json":true}'), 'malformed', /do not decode/],
    ['rejects a command whose operation this agent does not know', subjects.command(provider, uid),
      new Uint8Array([...bytes(aCommand((c) => (c.op = { case: undefined }))), 0x9a, 0x06, 0x00]), 'unknown_op', /unknown operation field 99/],
    ['rejects a command without an operation', subjects.command(provider, uid), bytes(aCommand((c) => (c.op = { case: undefined }))), 'unknown_op', /got none/],
    ['rejects a command without meta', subjects.command(provider, uid), bytes(aCommand((c) => (c.meta = undefined))), 'invalid', /meta.command_id/],
    ['rejects a command whose uid differs from its subject', subjects.command(provider, 'other-uid'), bytes(aCommand()), 'invalid', /subject's uid other-uid/],
    ['rejects a command for another provider', subjects.command(provider, uid), bytes(aCommand((c) => (c.meta!.provider!.name = 'vc2'))), 'invalid', /meta.provider infra\/vc1, got infra\/vc2/],
    ['rejects a snapshot command without its VM', subjects.command(provider, uid),
      bytes(aCommand((c) => { c.meta!.vm = undefined; c.op = { case: 'snapshotCreate', value: create(SnapshotCreateSchema) }; })), 'invalid', /meta.vm.uid/],
  ];
  for (const [rule, subject, data, kind, message] of table) {
    it(rule, () => {
      const r = rejection(subject, data);
      assert.equal(r.kind, kind);
      assert.match(r.message, message);
    });
  }
});
