/** The status writer: one writer per VM, coalescing, our own newest copy as the base, Events per step. */
import { strict as assert } from 'node:assert';
import type { VirtualMachine } from '../../api/objects.ts';
import { silentLogger } from '../../dispatcher/log.ts';
import type { VMStatus } from '../../dispatcher/status/model.ts';
import { StatusWriter, type StatusMutation } from '../../dispatcher/status/status-writer.ts';
import type { Transition } from '../../dispatcher/status/transitions.ts';

/** An apiserver of one VM: merge patches on status with resourceVersion preconditions. */
class OneVmServer {
  vm: VirtualMachine = {
    apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VirtualMachine',
    metadata: { namespace: 'apps', name: 'web', uid: 'u1', resourceVersion: '1', generation: 1 },
    spec: {} as VirtualMachine['spec'],
  };
  patches: Record<string, unknown>[] = [];
  version = 1;

  getVM = async () => structuredClone(this.vm);
  patchVMStatus = async (_ns: string, _name: string, body: Record<string, unknown>) => {
    const rv = (body.metadata as { resourceVersion?: string }).resourceVersion;
    if (rv !== this.vm.metadata.resourceVersion) throw Object.assign(new Error('conflict'), { statusCode: 409 });
    this.patches.push(body);
    this.vm = { ...this.vm, status: { ...(this.vm.status ?? {}), ...(body.status as VMStatus) }, metadata: { ...this.vm.metadata, resourceVersion: String(++this.version) } };
    return structuredClone(this.vm);
  };
}

const setPhase = (phase: string, cond: { type: string; status: 'True' | 'False'; reason: string }): StatusMutation =>
  (s) => ({ ...s, phase: phase as VMStatus['phase'], conditions: [...(s.conditions ?? []).filter((c) => c.type !== cond.type), { ...cond, message: phase, lastTransitionTime: 't' }] });

function setup(staleCache = true) {
  const server = new OneVmServer();
  const initial = structuredClone(server.vm);
  const recorded: Transition[][] = [];
  const writer = new StatusWriter({
    api: server,
    // The informer cache never catches up in these tests unless asked to.
    cache: { get: () => (staleCache ? initial : server.vm) },
    recorder: { record: (_vm, t) => recorded.push([...t]) },
    log: silentLogger,
  });
  return { server, writer, recorded };
}

describe('dispatcher status writer', () => {
  it('a change asked to wait for company goes in one write with the next change, and Events show both steps', async () => {
    const { server, writer, recorded } = setup();
    const published = writer.update('apps/web', 'u1', setPhase('Provisioning', { type: 'Provisioning', status: 'True', reason: 'CommandPublished' }), { coalesceMs: 2000 });
    await new Promise((r) => setTimeout(r, 20));
    const answered = writer.update('apps/web', 'u1', setPhase('Running', { type: 'Provisioning', status: 'False', reason: 'Provisioned' }));
    assert.deepEqual(await Promise.all([published, answered]), ['written', 'written']);
    assert.equal(server.patches.length, 1, 'one status write for both changes');
    assert.equal(server.vm.status?.phase, 'Running');
    // One Event per step: the publish, then the answer (with its phase change in the message).
    const events = recorded.flat();
    assert.deepEqual(events.map((t) => t.reason), ['CommandPublished', 'Provisioned']);
    assert.match(events[1]!.message, /phase Provisioning → Running/);
  });

  it('an interim change (progress) joining keeps the wait going: published, progress and answer in one write', async () => {
    const { server, writer } = setup();
    const published = writer.update('apps/web', 'u1', setPhase('Provisioning', { type: 'Provisioning', status: 'True', reason: 'CommandPublished' }), { coalesceMs: 2000 });
    await new Promise((r) => setTimeout(r, 10));
    const progress = writer.update('apps/web', 'u1', setPhase('Provisioning', { type: 'Provisioning', status: 'True', reason: 'InProgress' }), { coalesceMs: 2000 });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(server.patches.length, 0, 'still waiting for the answer');
    const answered = writer.update('apps/web', 'u1', setPhase('Running', { type: 'Provisioning', status: 'False', reason: 'Provisioned' }));
    assert.deepEqual(await Promise.all([published, progress, answered]), ['written', 'written', 'written']);
    assert.equal(server.patches.length, 1);
  });

  it('a lone waiting change is written once its wait ends', async () => {
    const { server, writer } = setup();
    const started = Date.now();
    assert.equal(await writer.update('apps/web', 'u1', setPhase('Provisioning', { type: 'Provisioning', status: 'True', reason: 'CommandPublished' }), { coalesceMs: 80 }), 'written');
    assert.ok(Date.now() - started >= 70, 'waited for company');
    assert.equal(server.patches.length, 1);
  });

  it('flush() ends every wait at once (a term ending writes what it has)', async () => {
    const { server, writer } = setup();
    const started = Date.now();
    const pending = writer.update('apps/web', 'u1', setPhase('Provisioning', { type: 'Provisioning', status: 'True', reason: 'CommandPublished' }), { coalesceMs: 5000 });
    await new Promise((r) => setTimeout(r, 10));
    writer.flush();
    assert.equal(await pending, 'written');
    assert.ok(Date.now() - started < 1000);
    assert.equal(server.patches.length, 1);
  });

  it('a write right after another starts from our own newest copy, not the stale cache (no conflict round trip)', async () => {
    const { server, writer } = setup();
    await writer.update('apps/web', 'u1', setPhase('Provisioning', { type: 'Provisioning', status: 'True', reason: 'CommandPublished' }));
    await writer.update('apps/web', 'u1', setPhase('Running', { type: 'Ready', status: 'True', reason: 'Running' }));
    assert.equal(server.patches.length, 2);
    assert.deepEqual(server.patches.map((p) => (p.metadata as { resourceVersion: string }).resourceVersion), ['1', '2']);
  });

  it('observe(): a finalizer patch\'s answer is the base of the next status write', async () => {
    const { server, writer } = setup();
    server.vm = { ...server.vm, metadata: { ...server.vm.metadata, finalizers: ['f'], resourceVersion: '7' } };
    server.version = 7;
    writer.observe(structuredClone(server.vm));
    assert.equal(await writer.update('apps/web', 'u1', setPhase('Provisioning', { type: 'Provisioning', status: 'True', reason: 'CommandPublished' })), 'written');
    assert.equal((server.patches[0]!.metadata as { resourceVersion: string }).resourceVersion, '7');
  });

  it('forgets its own copy once the informer delivers that version (memory bounded by writes in flight), and keeps it for older ones', async () => {
    const { server, writer } = setup();
    await writer.update('apps/web', 'u1', setPhase('Running', { type: 'Ready', status: 'True', reason: 'Running' }));
    assert.equal(writer.remembered(), 1);
    writer.cacheUpdated({ ...server.vm, metadata: { ...server.vm.metadata, resourceVersion: '1' } });
    assert.equal(writer.remembered(), 1, 'an older version from the cache: ours is still the newer one');
    writer.cacheUpdated(structuredClone(server.vm));
    assert.equal(writer.remembered(), 0);
  });

  it('drops a change meant for another incarnation of the name', async () => {
    const { server, writer } = setup();
    assert.equal(await writer.update('apps/web', 'other-uid', setPhase('Running', { type: 'Ready', status: 'True', reason: 'Running' })), 'gone');
    assert.equal(server.patches.length, 0);
  });
});
