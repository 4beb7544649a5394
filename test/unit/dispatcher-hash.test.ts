/** The desired-state hash and command ids: stable where they must be, different where they must be. */
import { strict as assert } from 'node:assert';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { canonicalJson, hashDesired } from '../../dispatcher/reconcile/desired-hash.ts';
import { commandId } from '../../dispatcher/reconcile/command-id.ts';
import { ClassSpecSchema, CloudInitSchema, DesiredVMSchema, PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

const base = () => create(DesiredVMSchema, {
  class: create(ClassSpecSchema, { name: 'small', cpus: 2, memoryMib: 4096n }),
  powerState: PowerState.ON,
  tags: ['a'],
});

describe('dispatcher hash: desired state', () => {
  it('is a hex SHA-256', () => {
    assert.match(hashDesired(base()), /^[0-9a-f]{64}$/);
  });

  it('does not depend on the insertion order of map fields (extraConfig)', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 8 }), (map) => {
      const entries = Object.entries(map);
      const a = base();
      a.class!.extraConfig = Object.fromEntries(entries);
      const b = base();
      b.class!.extraConfig = Object.fromEntries([...entries].reverse());
      return hashDesired(a) === hashDesired(b);
    }));
  });

  it('does not tell an unset field from its default', () => {
    const a = base();
    const b = base();
    b.adoptId = '';
    b.gracefulTimeoutSeconds = 0;
    assert.equal(hashDesired(a), hashDesired(b));
  });

  it('changes with any desired change: CPUs, power, tags, cloud-init content', () => {
    const h = hashDesired(base());
    const cpus = base(); cpus.class!.cpus = 3;
    const power = base(); power.powerState = PowerState.OFF;
    const tags = base(); tags.tags = ['a', 'b'];
    const ci = base(); ci.cloudInit = create(CloudInitSchema, { userData: new TextEncoder().encode('#cloud-config') });
    const hashes = [cpus, power, tags, ci].map(hashDesired);
    assert.ok(hashes.every((x) => x !== h));
    assert.equal(new Set(hashes).size, 4);
  });

  it('canonical JSON sorts keys at every depth', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});

describe('dispatcher hash: command ids', () => {
  const parts = { uid: '0b7e1d2c-aaaa-4bbb-8ccc-000000000001', operation: 'Reconcile' as const, sequence: 3, generation: 2, hash: 'abcdef0123456789ff' };

  it('names uid, operation and sequence, generation and the hash prefix', () => {
    assert.equal(commandId(parts), '0b7e1d2c-aaaa-4bbb-8ccc-000000000001-r3-g2-abcdef012345');
    assert.equal(commandId({ ...parts, operation: 'Delete', hash: 'delete' }), '0b7e1d2c-aaaa-4bbb-8ccc-000000000001-d3-g2-delete');
  });

  it('differs whenever uid, sequence, generation or hash differ', () => {
    fc.assert(fc.property(fc.uuid(), fc.nat(1000), fc.nat(1000), fc.hexaString({ minLength: 12, maxLength: 12 }), fc.nat(1000), (uid, seq, gen, hash, seq2) => {
      fc.pre(seq !== seq2);
      return commandId({ uid, operation: 'Reconcile', sequence: seq, generation: gen, hash }) !==
        commandId({ uid, operation: 'Reconcile', sequence: seq2, generation: gen, hash });
    }));
  });
});
