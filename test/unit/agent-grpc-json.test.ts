/** The provider.v1 JSON-in-string fields: any key casing, strict types, errors naming the field. */
import { ConnectError } from '@connectrpc/connect';
import { strict as assert } from 'node:assert';
import { Firmware } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { UID_TAG, uidForCreate, uidFromName } from '../../provider-agents/grpc/ids.ts';
import { parseArray, parseObject, toClassSpec, toDesiredResources, toImageSpec, toNetworks } from '../../provider-agents/grpc/json-fields.ts';

function rejection(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ConnectError);
    return err.rawMessage;
  }
  throw new Error('expected InvalidArgument');
}

describe('provider.v1 JSON fields', () => {
  it('reads the original\'s PascalCase class (Go structs without tags)', () => {
    const c = toClassSpec('class_json', parseObject('class_json', '{"CPU":4,"MemoryMiB":8192,"Firmware":"UEFI","ExtraConfig":{"a":"b"},"SecurityProfile":{"SecureBoot":true}}'))!;
    assert.deepEqual([c.cpus, c.memoryMib, c.firmware, c.extraConfig, c.secureBoot], [4, 8192n, Firmware.UEFI, { a: 'b' }, true]);
  });

  it('reads the CRD\'s camelCase class with a memory quantity', () => {
    const c = toClassSpec('class_json', parseObject('class_json', '{"cpu":2,"memory":"4Gi","firmware":"EFI"}'))!;
    assert.deepEqual([c.cpus, c.memoryMib, c.firmware], [2, 4096n, Firmware.UEFI]);
  });

  it('reads an image as a template, a URL or a disk path', () => {
    assert.equal(toImageSpec('i', { TemplateName: 'ubuntu' })!.source.case, 'vsphereTemplate');
    assert.equal(toImageSpec('i', { url: 'https://x/y.qcow2', format: 'qcow2' })!.source.case, 'url');
    assert.equal(toImageSpec('i', { Path: '/var/lib/images/a.qcow2' })!.source.case, 'existingDisk');
  });

  it('reads networks by portgroup, bridge or network name', () => {
    const n = toNetworks('networks_json', parseArray('networks_json', '[{"Name":"a","Portgroup":"VM Network","VLAN":10},{"name":"b","bridge":"br0"}]'));
    assert.deepEqual(n.map((x) => [x.name, x.network, x.kind, x.vlan]), [['a', 'VM Network', 'portgroup', 10], ['b', 'br0', 'bridge', 0]]);
  });

  it('reads desired_json with the class at the top level or under "class"', () => {
    assert.equal(toDesiredResources('desired_json', '{"CPU":8}').class.cpus, 8);
    assert.equal(toDesiredResources('desired_json', '{"class":{"memory":"512Mi"},"disks":[{"name":"d","sizeGiB":5}]}').class.memoryMib, 512n);
  });

  const table: Array<[string, () => unknown, string]> = [
    ['refuses invalid JSON', () => parseObject('class_json', '{'), 'class_json: expected JSON, got invalid JSON'],
    ['refuses an array where an object belongs', () => parseObject('placement_json', '[]'), 'placement_json: expected a JSON object, got an array'],
    ['refuses a CPU count that is not a whole number', () => toClassSpec('class_json', { CPU: 2.5 }), 'class_json.cpu: expected a whole number from 1 to 4096, got number'],
    ['refuses a memory that is not MiB or a quantity', () => toClassSpec('class_json', { memory: '4 gigs' }), 'class_json.memoryMiB: expected MiB as a number or a quantity such as "4Gi", got "4 gigs"'],
    ['refuses an unknown firmware', () => toClassSpec('class_json', { firmware: 'coreboot' }), 'class_json.firmware: expected BIOS, UEFI or EFI, got "coreboot"'],
    ['refuses a network entry that is not an object', () => parseArray('networks_json', '["lan"]'), 'networks_json[0]: expected a JSON object, got "lan"'],
    ['refuses a desired_json without content', () => toDesiredResources('desired_json', ''), 'desired_json: expected a JSON object with the desired CPU, memory or disks, got ""'],
  ];
  for (const [rule, f, message] of table) {
    it(rule, () => assert.ok(rejection(f).startsWith(message), rejection(f)));
  }
});

describe('provider.v1 identity', () => {
  it('derives the same UUID-shaped uid from the same name, a different one from another', () => {
    assert.equal(uidFromName('web-1'), uidFromName('web-1'));
    assert.notEqual(uidFromName('web-1'), uidFromName('web-2'));
    assert.match(uidFromName('web-1'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('takes the object\'s real uid from a tag when the caller knows it', () => {
    assert.equal(uidForCreate('web-1', ['web', `${UID_TAG}1b4e28ba-2fa1-11d2-883f-0016d3cca427`]), '1b4e28ba-2fa1-11d2-883f-0016d3cca427');
    assert.equal(uidForCreate('web-1', []), uidFromName('web-1'));
  });
});
