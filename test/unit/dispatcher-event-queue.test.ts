/** Events go to the apiserver through a bounded queue: limited in flight, limited waiting, overflow dropped and counted. */
import { strict as assert } from 'node:assert';
import { silentLogger } from '../../dispatcher/log.ts';
import { createEventRecorder } from '../../dispatcher/status/event-recorder.ts';
import { EventQueue } from '../../dispatcher/status/event-queue.ts';
import type { VirtualMachine } from '../../api/objects.ts';

/** A send whose answers the test releases by hand. */
function heldSends() {
  const sent: number[] = [];
  const release: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (item: number) => {
    sent.push(item);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise<void>((resolve) => release.push(() => { inFlight--; resolve(); }));
  };
  return { sent, release, send, maxInFlight: () => maxInFlight };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('dispatcher event queue', () => {
  it('sends at most `concurrency` at once, in order, and drops what finds the queue full', async () => {
    const h = heldSends();
    const dropped: number[] = [];
    const q = new EventQueue<number>({ send: h.send, capacity: 3, concurrency: 2, onDropped: (i) => dropped.push(i) });
    for (let i = 0; i < 8; i++) q.push(i);
    // 2 in flight, 3 waiting, the other 3 dropped.
    assert.deepEqual(h.sent, [0, 1]);
    assert.equal(q.size, 3);
    assert.deepEqual(dropped, [5, 6, 7]);
    while (h.release.length) {
      h.release.shift()!();
      await tick();
    }
    await q.idle();
    assert.deepEqual(h.sent, [0, 1, 2, 3, 4]);
    assert.equal(h.maxInFlight(), 2);
    assert.equal(q.size, 0);
  });

  it('a failed send is reported and does not stop the queue', async () => {
    const failed: number[] = [];
    const sent: number[] = [];
    const q = new EventQueue<number>({
      capacity: 10, concurrency: 1,
      send: async (i) => { if (i === 1) throw new Error('apiserver said no'); sent.push(i); },
      onFailed: (i) => failed.push(i),
    });
    for (let i = 0; i < 4; i++) q.push(i);
    await q.idle();
    assert.deepEqual(sent, [0, 2, 3]);
    assert.deepEqual(failed, [1]);
  });

  it('keeps memory flat over many items (the consumed prefix is released)', async () => {
    let n = 0;
    const q = new EventQueue<number>({ capacity: 100_000, concurrency: 4, send: async () => { n++; } });
    for (let i = 0; i < 50_000; i++) q.push(i);
    await q.idle();
    assert.equal(n, 50_000);
    assert.equal(q.size, 0);
    assert.ok((q as unknown as { waiting: unknown[] }).waiting.length < 2048, 'the waiting array was compacted');
  });

  it('the recorder turns transitions into core/v1 Events on the VM and counts the dropped ones', async () => {
    const posted: Array<{ namespace: string; reason?: string; involved: string }> = [];
    let gate!: () => void;
    const open = new Promise<void>((r) => (gate = r));
    let dropped = 0;
    const recorder = createEventRecorder({
      api: { createEvent: async (namespace, e) => { await open; posted.push({ namespace, reason: e.reason, involved: `${e.involvedObject.kind}/${e.involvedObject.name}` }); } },
      identity: 'd-1', log: silentLogger, capacity: 2, concurrency: 1, onDropped: () => dropped++,
    });
    const vm = { metadata: { namespace: 'apps', name: 'web', uid: 'u1', resourceVersion: '7' } } as VirtualMachine;
    recorder.record(vm, [
      { type: 'Normal', reason: 'Provisioning', message: 'a' },
      { type: 'Normal', reason: 'Ready', message: 'b' },
      { type: 'Normal', reason: 'PowerOn', message: 'c' },
      { type: 'Warning', reason: 'Late', message: 'd' },
    ]);
    gate();
    await recorder.idle();
    assert.deepEqual(posted.map((p) => p.reason), ['Provisioning', 'Ready', 'PowerOn']);
    assert.ok(posted.every((p) => p.namespace === 'apps' && p.involved === 'VirtualMachine/web'));
    assert.equal(dropped, 1);
  });
});
