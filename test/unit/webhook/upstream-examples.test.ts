/**
 * The original's example manifests must apply unchanged: every object of each example file,
 * mutated then validated with the file's other objects in the cache (and with none, as when a
 * folder applies in name order), draws no denial.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { GROUP } from '../../../api/crd.ts';
import type { AnyVirtRigaudObject, Provider, VirtualMachine, VMClass, VMImage, VMNetworkAttachment, VMPlacementPolicy } from '../../../api/objects.ts';
import type { Lookup } from '../../../webhook/framework/types.ts';
import { mutatorsFor, validatorFor } from '../../../webhook/kinds/index.ts';
import { anInMemoryLookup } from '../../support/builders.ts';

const EXAMPLES = new URL('../../../../shared/compat/upstream-examples/', import.meta.url).pathname;

function load(file: string): AnyVirtRigaudObject[] {
  return parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((o): o is AnyVirtRigaudObject => typeof o === 'object' && o !== null && String((o as { apiVersion?: unknown }).apiVersion).startsWith(`${GROUP}/`))
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? 'default' } }) as AnyVirtRigaudObject);
}

function lookupOf(objects: readonly AnyVirtRigaudObject[]): Lookup {
  const of = <K extends AnyVirtRigaudObject['kind']>(kind: K) => objects.filter((o) => o.kind === kind) as Array<Extract<AnyVirtRigaudObject, { kind: K }>>;
  return anInMemoryLookup({
    providers: of('Provider') as Provider[], classes: of('VMClass') as VMClass[], images: of('VMImage') as VMImage[],
    networks: of('VMNetworkAttachment') as VMNetworkAttachment[], policies: of('VMPlacementPolicy') as VMPlacementPolicy[],
    vms: of('VirtualMachine') as VirtualMachine[],
  });
}

function admit(object: AnyVirtRigaudObject, lookup: Lookup): string[] {
  const copy = structuredClone(object);
  for (const m of mutatorsFor(copy.kind)) m({ operation: 'CREATE', object: copy, lookup });
  const result = validatorFor(copy.kind)?.({ operation: 'CREATE', object: copy, lookup });
  return (result?.errors ?? []).map((e) => `${e.rule} @ ${e.field}: ${e.message}`);
}

describe('upstream examples pass the admission rules unchanged', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

  it('finds the example files and their objects of every kind with rules', () => {
    assert.ok(files.length >= 10, `${files.length} files in ${EXAMPLES}`);
    const kinds = new Set(files.flatMap(load).map((o) => o.kind));
    for (const kind of ['Provider', 'VMClass', 'VirtualMachine', 'VMClone', 'VMMigration']) assert.ok(kinds.has(kind as never), kind);
  });

  for (const file of files) {
    it(`admits every object of ${file}, with its file's objects cached and with none`, () => {
      const objects = load(file);
      const world = lookupOf(objects);
      const empty = anInMemoryLookup();
      for (const o of objects) {
        // A VM does not conflict with itself: the cache holds the file's VMs, the admitted one included.
        assert.deepEqual(admit(o, world), [], `${o.kind} ${o.metadata.name} with the file cached`);
        assert.deepEqual(admit(o, empty), [], `${o.kind} ${o.metadata.name} with nothing cached`);
      }
    });
  }
});
