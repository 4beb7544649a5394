/** The "command published" status waits as long as agents take to answer, within bounds. */
import { strict as assert } from 'node:assert';
import { CoalesceWindow } from '../../dispatcher/status/coalesce-window.ts';

describe('dispatcher coalescing window', () => {
  let t = 0;
  const clock = () => t;
  const answerAfter = (w: CoalesceWindow, id: string, ms: number) => {
    w.published(id);
    t += ms;
    w.answered(id);
  };

  beforeEach(() => (t = 0));

  it('stays at STATUS_COALESCE_MS while agents answer within it', () => {
    const w = new CoalesceWindow(500, 5000, clock);
    assert.equal(w.current(), 500);
    for (let i = 0; i < 20; i++) answerAfter(w, `c${i}`, 40);
    assert.equal(w.current(), 500);
  });

  it('grows to 1.5 × the answer time under a backlog, capped, and comes back as answers speed up', () => {
    const w = new CoalesceWindow(500, 5000, clock);
    for (let i = 0; i < 30; i++) answerAfter(w, `slow${i}`, 2000);
    const grown = w.current();
    assert.ok(grown > 2500 && grown <= 3000, `about 1.5 × 2 s, got ${grown}`);
    for (let i = 0; i < 30; i++) answerAfter(w, `slower${i}`, 20_000);
    assert.equal(w.current(), 5000, 'never past STATUS_COALESCE_MAX_MS');
    for (let i = 0; i < 60; i++) answerAfter(w, `fast${i}`, 30);
    assert.equal(w.current(), 500);
  });

  it('waits longer while many commands are out, before any answer has come back', () => {
    const w = new CoalesceWindow(500, 5000, clock);
    for (let i = 0; i < 100; i++) w.published(`burst${i}`);
    assert.equal(w.current(), 1500, '500 ms more per 50 commands out');
    for (let i = 100; i < 1000; i++) w.published(`burst${i}`);
    assert.equal(w.current(), 5000);
    t += 6 * 60_000;
    assert.equal(w.current(), 500, 'commands unanswered for minutes no longer count');
    assert.equal(w.waiting, 0);
  });

  it('is off when STATUS_COALESCE_MS is 0, and ignores answers to commands it did not see published', () => {
    assert.equal(new CoalesceWindow(0, 5000, clock).current(), 0);
    const w = new CoalesceWindow(500, 5000, clock);
    w.answered('never-published');
    assert.equal(w.current(), 500);
    w.published('pending');
    assert.equal(w.waiting, 1);
    assert.equal(w.current(), 510);
    w.answered('pending');
    assert.equal(w.waiting, 0);
  });
});
