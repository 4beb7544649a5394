/**
 * The vSphere driver's use of the Automation REST API (tags, content library) and OVA/OVF import
 * (ImportVApp + NFC lease), against a real vcsim.
 */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImageSpecSchema, type ObservedVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../../provider-agents/core/errors.ts';
import { VSphereDriver } from '../../provider-agents/vsphere/driver.ts';
import { cachedTemplateName } from '../../provider-agents/vsphere/images.ts';
import { readTarIndex } from '../../provider-agents/vsphere/ova.ts';
import { decodeMoRef, ref, type MoRef } from '../../provider-agents/vsphere/soap/client.ts';
import { desiredFrom, makeTemplate, opContext, openDriver, startVcsim, type Vcsim } from '../support/vcsim.ts';

const run = promisify(execFile);
const TEMPLATE = 'tmpl-rest';
const calls = (d: VSphereDriver, method: string) => d.client.stats.byMethod.get(method) ?? 0;
const VM = (id: string): MoRef => ({ type: 'VirtualMachine', value: id });

/** A minimal OVF: one VM, 1 CPU, 64 MiB, one 1 GiB disk on an LSI Logic controller. */
function ovfDescriptor(diskFile: string, diskSize: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References><File ovf:href="${diskFile}" ovf:id="file1" ovf:size="${diskSize}"/></References>
  <DiskSection><Info>disks</Info>
    <Disk ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="disk1" ovf:fileRef="file1"
      ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="tiny"><Info>a tiny VM</Info><Name>tiny</Name>
    <VirtualHardwareSection><Info>hardware</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType></System>
      <Item><rasd:ElementName>1 CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>64 MB</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>64</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>SCSI 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>disk 0</rasd:ElementName><rasd:HostResource>ovf:/disk/disk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

describe('vSphere images and tags (real vcsim)', function () {
  this.timeout(60_000);
  let sim: Vcsim;
  let d: VSphereDriver;
  const made: ObservedVM[] = [];
  const path = async (p: string) => {
    const [found] = await d.client.call('FindByInventoryPath', { _this: ref(d.client.serviceContent.searchIndex), inventoryPath: p });
    return decodeMoRef(found, p);
  };

  before(async () => {
    sim = await startVcsim();
    d = await openDriver(sim);
    await makeTemplate(d, TEMPLATE);
  });
  after(async () => {
    for (const vm of made) await d?.destroy(vm, opContext()).catch(() => undefined);
    await d?.close();
    await sim?.close();
  });

  describe('tags (REST)', () => {
    const tagIds = new Map<string, string>();
    before(async () => {
      const rest = d.rest();
      for (const cat of ['env', 'team']) {
        const catId = (await rest.call('POST', '/com/vmware/cis/tagging/category', { create_spec: { name: cat, description: '', cardinality: 'MULTIPLE', associable_types: [] } })) as string;
        for (const name of cat === 'env' ? ['prod', 'dev'] : ['a', 'prod']) {
          const id = (await rest.call('POST', '/com/vmware/cis/tagging/tag', { create_spec: { name, description: '', category_id: catId } })) as string;
          tagIds.set(`${cat}:${name}`, id);
        }
      }
    });

    it('attaches the desired tags, detaches only the ones it attached, and leaves others\' tags alone', async () => {
      const uid = randomUUID();
      const vm = await d.create(uid, desiredFrom(TEMPLATE), opContext());
      made.push(vm);
      const rest = d.rest();
      // Someone else's tag on the VM.
      await rest.attachTag(tagIds.get('env:dev')!, VM(vm.id));
      const first = await d.reconfigure(vm, desiredFrom(TEMPLATE, { tags: ['env:prod', 'a'] }), opContext());
      const attached = async () => new Set(await rest.attachedTags(VM(vm.id)));
      assert.deepEqual(await attached(), new Set([tagIds.get('env:prod'), tagIds.get('team:a'), tagIds.get('env:dev')]));
      await d.reconfigure(first.vm, desiredFrom(TEMPLATE, { tags: ['env:prod'] }), opContext());
      assert.deepEqual(await attached(), new Set([tagIds.get('env:prod'), tagIds.get('env:dev')]));
      assert.equal(d.inventory.get(VM(vm.id))!.extraConfig.get('virtrigaud.tags'), 'env:prod');
      const reconfigs = calls(d, 'ReconfigVM_Task');
      await d.reconfigure(first.vm, desiredFrom(TEMPLATE, { tags: ['env:prod'] }), opContext());
      assert.equal(calls(d, 'ReconfigVM_Task'), reconfigs, 'tags in place: nothing to write');
    });

    it('refuses a tag that does not exist or is ambiguous without its category, and uses one REST session', async () => {
      const vm = await d.create(randomUUID(), desiredFrom(TEMPLATE), opContext());
      made.push(vm);
      await assert.rejects(d.reconfigure(vm, desiredFrom(TEMPLATE, { tags: ['nope'] }), opContext()), (e: unknown) =>
        e instanceof PermanentError && e.reason === 'TagNotFound' && /tag "nope" does not exist/.test(e.message));
      await assert.rejects(d.reconfigure(vm, desiredFrom(TEMPLATE, { tags: ['prod'] }), opContext()), (e: unknown) =>
        e instanceof PermanentError && /tag "prod" is ambiguous; write it as category:name/.test(e.message));
      assert.equal(d.rest().stats.sessionsOpened, 1);
    });
  });

  describe('content library (REST)', () => {
    let library: string;
    before(async () => {
      const ds = await path('DC0/datastore/LocalDS_0');
      library = (await d.rest().call('POST', '/com/vmware/content/local-library', {
        create_spec: { name: 'golden', type: 'LOCAL', storage_backings: [{ type: 'DATASTORE', datastore_id: ds.value }] },
      })) as string;
    });

    it('deploys a VM-template item once into a cached template and clones every VM from it', async () => {
      const src = d.inventory.byName('DC0_H0_VM1')[0]!;
      await d.rest().call('POST', '/vcenter/vm-template/library-items', {
        spec: { name: 'ubuntu-24', library, source_vm: src.ref.value, placement: { folder: (await path('DC0/vm')).value, resource_pool: src.resourcePool!.value } },
      });
      const image = create(ImageSpecSchema, { source: { case: 'vsphereTemplate', value: { templateName: '', contentLibrary: 'golden', contentLibraryItem: 'ubuntu-24' } } });
      const ctx = opContext();
      const a = await d.create(randomUUID(), desiredFrom(TEMPLATE, { image }), ctx);
      const b = await d.create(randomUUID(), desiredFrom(TEMPLATE, { image }), opContext());
      made.push(a, b);
      const cached = d.inventory.all().filter((r) => r.name.startsWith('virtrigaud-image-'));
      assert.equal(cached.length, 1, cached.map((r) => r.name).join(','));
      assert.ok(ctx.reports.some(([, s]) => /deploying content library item golden\/ubuntu-24/.test(s)));
      assert.notEqual(a.id, b.id);
    });

    it('deploys an OVF item (uploaded through an update session)', async () => {
      const rest = d.rest();
      const item = (await rest.call('POST', '/com/vmware/content/library/item', { create_spec: { library_id: library, name: 'tiny-ovf', type: 'ovf' } })) as string;
      const session = (await rest.call('POST', '/com/vmware/content/library/item/update-session', { create_spec: { library_item_id: item } })) as string;
      const descriptor = Buffer.from(ovfDescriptor('tiny-disk1.vmdk', 4));
      const file = (await rest.call('POST', `/com/vmware/content/library/item/updatesession/file/id:${session}?~action=add`, {
        file_spec: { name: 'tiny.ovf', source_type: 'PUSH', size: descriptor.length },
      })) as { upload_endpoint: { uri: string } };
      const uri = new URL(file.upload_endpoint.uri);
      const put = await d.transport.send({ path: uri.pathname, method: 'PUT', body: descriptor, headers: { 'vmware-api-session-id': session } });
      assert.ok(put.status < 300, `upload answered ${put.status}`);
      await rest.call('POST', `/com/vmware/content/library/item/update-session/id:${session}?~action=complete`);
      const image = create(ImageSpecSchema, { source: { case: 'vsphereTemplate', value: { templateName: '', contentLibrary: 'golden', contentLibraryItem: 'tiny-ovf' } } });
      const vm = await d.create(randomUUID(), desiredFrom(TEMPLATE, { image }), opContext());
      made.push(vm);
      assert.equal(vm.exists, true);
      await assert.rejects(d.create(randomUUID(), desiredFrom(TEMPLATE, { image: create(ImageSpecSchema, { source: { case: 'vsphereTemplate', value: { templateName: '', contentLibrary: 'golden', contentLibraryItem: 'missing' } } }) }), opContext()),
        (e: unknown) => e instanceof PermanentError && e.reason === 'ImageNotFound' && /item "missing" not found in content library "golden"/.test(e.message));
    });
  });

  describe('OVA import (ImportVApp + NFC lease)', () => {
    let dir: string;
    let server: Server;
    let base: string;
    let sha256: string;
    const requests: string[] = [];
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vs-ova-'));
      const disk = Buffer.alloc(64 * 1024, 7);
      writeFileSync(join(dir, 'tiny-disk1.vmdk'), disk);
      writeFileSync(join(dir, 'tiny.ovf'), ovfDescriptor('tiny-disk1.vmdk', disk.length));
      await run('tar', ['-cf', join(dir, 'tiny.ova'), '-C', dir, 'tiny.ovf', 'tiny-disk1.vmdk']);
      sha256 = createHash('sha256').update(readFileSync(join(dir, 'tiny.ova'))).digest('hex');
      server = createServer((req, res) => {
        requests.push(req.url ?? '');
        try {
          res.end(readFileSync(join(dir, (req.url ?? '/').slice(1))));
        } catch {
          res.statusCode = 404;
          res.end();
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const addr = server.address();
      base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    });
    after(async () => {
      await new Promise((r) => server?.close(r));
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads the OVA\'s tar index (descriptor first, then the disk)', async () => {
      const index = await readTarIndex(join(dir, 'tiny.ova'));
      assert.deepEqual([...index.keys()], ['tiny.ovf', 'tiny-disk1.vmdk']);
      assert.equal(index.get('tiny-disk1.vmdk')!.size, 64 * 1024);
    });

    it('imports an OVA once (checksum verified, disk uploaded to the lease) and clones VMs from it', async () => {
      const url = `${base}/tiny.ova`;
      const image = create(ImageSpecSchema, { source: { case: 'url', value: { url, format: 'ova', checksum: sha256, checksumType: 'sha256', storage: '' } } });
      const imports = calls(d, 'ImportVApp');
      const ctx = opContext();
      const a = await d.create(randomUUID(), desiredFrom(TEMPLATE, { image }), ctx);
      const b = await d.create(randomUUID(), desiredFrom(TEMPLATE, { image }), opContext());
      made.push(a, b);
      assert.equal(calls(d, 'ImportVApp') - imports, 1);
      assert.equal(calls(d, 'HttpNfcLeaseComplete'), 1);
      assert.equal(requests.filter((r) => r === '/tiny.ova').length, 1);
      const name = cachedTemplateName(`url:${url}#${sha256}`);
      const tmpl = d.inventory.byName(name)[0];
      assert.ok(tmpl, `cached template ${name}`);
      assert.ok(ctx.reports.some(([, s]) => /uploading image disks 100%/.test(s)), JSON.stringify(ctx.reports));
    });

    it('refuses an image whose checksum does not match, and one vSphere cannot import', async () => {
      const wrong = create(ImageSpecSchema, { source: { case: 'url', value: { url: `${base}/tiny.ova`, format: 'ova', checksum: '0'.repeat(64), checksumType: 'sha256', storage: '' } } });
      await assert.rejects(d.create(randomUUID(), desiredFrom(TEMPLATE, { image: wrong }), opContext()), (e: unknown) =>
        e instanceof PermanentError && e.reason === 'ImageChecksumMismatch');
      const qcow = create(ImageSpecSchema, { source: { case: 'url', value: { url: `${base}/disk.qcow2`, format: 'qcow2', checksum: '', checksumType: '', storage: '' } } });
      await assert.rejects(d.create(randomUUID(), desiredFrom(TEMPLATE, { image: qcow }), opContext()), (e: unknown) =>
        e instanceof PermanentError && e.reason === 'UnsupportedImageFormat');
      assert.equal(calls(d, 'HttpNfcLeaseAbort'), 0);
    });
  });
});
