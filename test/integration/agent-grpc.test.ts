/**
 * The provider.v1 gRPC service served over the mock driver, called by a real gRPC client
 * (@connectrpc/connect-node, gRPC protocol over HTTP/2) as the original VirtRigaud manager would.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { strict as assert } from 'node:assert';
import { PowerOp, Provider } from '../../proto/gen/provider/v1/provider_pb.ts';
import { startGrpcServer, type GrpcServer } from '../../provider-agents/grpc/server.ts';
import { uidFromName } from '../../provider-agents/grpc/ids.ts';
import { MockDriver } from '../../provider-agents/mock/driver.ts';
import { startNats, type NatsServer } from '../../scripts/stack/nats.ts';
import { freshProvider } from '../support/agent-bus.ts';

async function code(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error('expected the call to fail');
}

describe('provider.v1 gRPC service over the mock driver', function () {
  this.timeout(20_000);
  let nats: NatsServer;
  let driver: MockDriver;
  let flaky: MockDriver;
  let server: GrpcServer;
  let flakyServer: GrpcServer;
  let client: Client<typeof Provider>;

  before(async () => {
    nats = await startNats();
    driver = await MockDriver.open({ natsServers: nats.url, provider: freshProvider() });
    flaky = await MockDriver.open({ natsServers: nats.url, provider: freshProvider(), faults: [{ op: 'find', times: -1 }] });
    server = await startGrpcServer({ driver, port: 0 });
    flakyServer = await startGrpcServer({ driver: flaky, port: 0 });
    client = createClient(Provider, createGrpcTransport({ baseUrl: server.url }));
  });
  after(async () => {
    await server?.close();
    await flakyServer?.close();
    await driver?.close();
    await flaky?.close();
    await nats?.stop();
  });

  it('validates and reports capabilities', async () => {
    const v = await client.validate({});
    assert.equal(v.ok, true);
    assert.match(v.message, /^mock /);
    const caps = await client.getCapabilities({});
    assert.equal(caps.supportsSnapshots, true);
    assert.equal(caps.supportsMemorySnapshots, true);
    assert.equal(caps.supportsLinkedClones, true);
  });

  it('Create, Describe, Power, Reconfigure, Snapshot, Delete: the whole life of a VM', async () => {
    // The original's Go structs without JSON tags: PascalCase keys.
    const created = await client.create({
      name: 'web-1',
      classJson: JSON.stringify({ CPU: 2, MemoryMiB: 4096, Firmware: 'UEFI' }),
      imageJson: JSON.stringify({ TemplateName: 'ubuntu-22.04' }),
      networksJson: JSON.stringify([{ Name: 'lan', Portgroup: 'VM Network' }]),
      disksJson: JSON.stringify([{ Name: 'data', SizeGiB: 20 }]),
      tags: ['web'],
    });
    assert.equal(created.id, uidFromName('web-1'));
    // A retried Create (lost answer) yields the same VM, not a second one.
    assert.equal((await client.create({ name: 'web-1', classJson: '{"CPU":2}' })).id, created.id);
    assert.equal((await driver.vms()).filter((v) => v.uid === created.id).length, 1);

    let d = await client.describe({ id: created.id });
    assert.equal(d.exists, true);
    assert.equal(d.powerState, 'Off');
    assert.equal(JSON.parse(d.providerRawJson).cpus, 2);

    await client.power({ id: created.id, op: PowerOp.ON });
    d = await client.describe({ id: created.id });
    assert.equal(d.powerState, 'On');
    assert.equal(d.ips.length, 1);
    assert.match(d.consoleUrl, /^mock:\/\//);

    await client.reconfigure({ id: created.id, desiredJson: JSON.stringify({ cpu: 4, memory: '8Gi' }) });
    const raw = JSON.parse((await client.describe({ id: created.id })).providerRawJson);
    assert.deepEqual([raw.cpus, raw.memoryMiB], [4, 8192]);

    const s1 = await client.snapshotCreate({ vmId: created.id, nameHint: 'before-upgrade', includeMemory: true });
    const s2 = await client.snapshotCreate({ vmId: created.id, nameHint: 'before-upgrade' });
    assert.equal(s2.snapshotId, s1.snapshotId, 'same VM and name: same snapshot');
    await client.snapshotRevert({ vmId: created.id, snapshotId: s1.snapshotId });
    await client.snapshotDelete({ vmId: created.id, snapshotId: s1.snapshotId });

    await client.power({ id: created.id, op: PowerOp.SHUTDOWN_GRACEFUL, gracefulTimeoutSeconds: 30 });
    assert.equal((await client.describe({ id: created.id })).powerState, 'Off');

    await client.delete({ id: created.id });
    assert.equal((await client.describe({ id: created.id })).exists, false);
    await client.delete({ id: created.id }); // deleting what is gone is done
    assert.equal((await driver.vms()).filter((v) => v.uid === created.id).length, 0);
  });

  it('clones by target name, once', async () => {
    const src = await client.create({ name: 'golden', classJson: '{"cpu":3,"memoryMiB":1024}' });
    const c1 = await client.clone({ sourceVmId: src.id, targetName: 'golden-copy', linked: true });
    const c2 = await client.clone({ sourceVmId: src.id, targetName: 'golden-copy' });
    assert.equal(c1.targetVmId, c2.targetVmId);
    assert.equal(JSON.parse((await client.describe({ id: c1.targetVmId })).providerRawJson).cpus, 3);
  });

  it('answers bad input with InvalidArgument naming the field, unknown ids with NotFound, missing verbs with Unimplemented', async () => {
    assert.deepEqual(await code(client.create({ name: 'x', classJson: '{"CPU":' })), {
      code: Code.InvalidArgument, message: 'class_json: expected JSON, got invalid JSON (Unexpected end of JSON input)',
    });
    assert.deepEqual(await code(client.create({ name: 'x', classJson: '{"CPU":"many"}' })), {
      code: Code.InvalidArgument, message: 'class_json.cpu: expected a whole number from 1 to 4096, got "many"',
    });
    assert.deepEqual(await code(client.create({ name: 'x', disksJson: '{"Name":"d"}' })), {
      code: Code.InvalidArgument, message: 'disks_json: expected a JSON array, got object',
    });
    assert.equal((await code(client.create({ name: '' }))).code, Code.InvalidArgument);
    assert.equal((await code(client.power({ id: uidFromName('nobody'), op: PowerOp.ON }))).code, Code.NotFound);
    assert.equal((await code(client.power({ id: 'has spaces', op: PowerOp.ON }))).code, Code.InvalidArgument);
    assert.equal((await code(client.listVMs({}))).code, Code.Unimplemented);
    assert.equal((await code(client.exportDisk({ vmId: 'x' }))).code, Code.Unimplemented);
  });

  it('answers a hypervisor read error with Unavailable, never "does not exist"', async () => {
    const flakyClient = createClient(Provider, createGrpcTransport({ baseUrl: flakyServer.url }));
    assert.equal((await code(flakyClient.describe({ id: uidFromName('web-1') }))).code, Code.Unavailable);
    assert.equal((await code(flakyClient.create({ name: 'web-2' }))).code, Code.Unavailable);
    assert.equal(flaky.calls.create, 0);
  });
});
