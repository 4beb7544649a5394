/**
 * Our provider.v1 is wire-compatible with the original VirtRigaud's: the same package, service,
 * methods, messages, fields (name, number, type, label, referenced type) and enum values. Both
 * sides are compiled by buf into FileDescriptorSets and compared element by element; the descriptor
 * embedded in the generated code (what the server really speaks) is compared too.
 */
import { fromBinary, isFieldSet } from '@bufbuild/protobuf';
import {
  FieldDescriptorProtoSchema, FileDescriptorSetSchema, FieldDescriptorProto_Label, FieldDescriptorProto_Type,
  type DescriptorProto, type EnumDescriptorProto, type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { file_provider_v1_provider } from '../../proto/gen/provider/v1/provider_pb.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const UPSTREAM = join(ROOT, '../shared/compat/upstream-proto');
const BUF = join(ROOT, 'node_modules/.bin/buf');

function bufBuild(args: string[]): FileDescriptorProto[] {
  const out = execFileSync(BUF, ['build', ...args, '--as-file-descriptor-set', '--exclude-imports', '-o', '-#format=binpb'], { cwd: ROOT, maxBuffer: 16 << 20 });
  return fromBinary(FileDescriptorSetSchema, out).file;
}

/** Every wire-relevant fact of a file, one line each, so a difference reads as a diff. */
export function wireFacts(files: FileDescriptorProto[]): string[] {
  const facts: string[] = [];
  const enumFacts = (scope: string, e: EnumDescriptorProto) => {
    for (const v of e.value) facts.push(`enum ${scope}${e.name} ${v.name}=${v.number}`);
  };
  const messageFacts = (scope: string, m: DescriptorProto) => {
    const name = `${scope}${m.name}`;
    facts.push(`message ${name}`);
    for (const f of m.field) {
      const oneof = isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional ? ` oneof=${m.oneofDecl[f.oneofIndex]?.name}` : '';
      facts.push(`field ${name}.${f.name} #${f.number} ${FieldDescriptorProto_Label[f.label]} ${FieldDescriptorProto_Type[f.type]} ${f.typeName}${oneof}${f.proto3Optional ? ' optional' : ''}`);
    }
    for (const n of m.nestedType) messageFacts(`${name}.`, n);
    for (const e of m.enumType) enumFacts(`${name}.`, e);
  };
  for (const file of files) {
    facts.push(`package ${file.package} syntax ${file.syntax || 'proto2'}`);
    for (const m of file.messageType) messageFacts(`${file.package}.`, m);
    for (const e of file.enumType) enumFacts(`${file.package}.`, e);
    for (const s of file.service) {
      facts.push(`service ${file.package}.${s.name}`);
      for (const rpc of s.method) {
        facts.push(`rpc ${file.package}.${s.name}.${rpc.name}(${rpc.inputType}) returns (${rpc.outputType}) client_streaming=${!!rpc.clientStreaming} server_streaming=${!!rpc.serverStreaming}`);
      }
    }
  }
  return facts.sort();
}

describe('provider.v1 wire compatibility with the original VirtRigaud', function () {
  this.timeout(30_000);
  let upstream: string[];
  let ours: string[];

  before(() => {
    upstream = wireFacts(bufBuild([UPSTREAM]));
    ours = wireFacts(bufBuild(['proto', '--path', 'proto/provider/v1/provider.proto']));
  });

  it('compiles the original to a non-trivial description (18 RPCs)', () => {
    assert.equal(upstream.filter((f) => f.startsWith('rpc ')).length, 18);
    assert.ok(upstream.filter((f) => f.startsWith('field ')).length > 100);
  });

  it('has every message, field (name, number, type, label, type), enum value and RPC of the original, and nothing else', () => {
    const missing = upstream.filter((f) => !ours.includes(f));
    const extra = ours.filter((f) => !upstream.includes(f));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
  });

  it('serves exactly that description: the generated code embeds the same descriptor', () => {
    assert.deepEqual(wireFacts([file_provider_v1_provider.proto]), ours);
  });

  it('would notice a renumbered field (the comparison is not vacuous)', () => {
    const [file] = bufBuild(['proto', '--path', 'proto/provider/v1/provider.proto']);
    const create = file!.messageType.find((m) => m.name === 'CreateRequest')!;
    create.field.find((f) => f.name === 'meta_data')!.number = 10;
    const changed = wireFacts([file!]);
    assert.ok(changed.includes('field provider.v1.CreateRequest.meta_data #10 OPTIONAL BYTES '));
    assert.notDeepEqual(changed, upstream);
  });
});
