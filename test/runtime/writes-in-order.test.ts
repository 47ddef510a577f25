/**
 * What this proves: the driver's write sink (`writesInOrder`) makes writes durable one at a
 * time in the order they were begun, so the driver may go on with its next Ready while a
 * snapshot write is in flight (driver-ready-host.ts) and what is durable is always a prefix of
 * what was begun: the second write is not begun before the first is done; after a failure no
 * later write begins and every waiting write hears of the failure (none waits forever).
 */
import { describe, expect, it } from 'vitest';
import { emptyWrite, type StorageWrite } from '../../src/io/storage/storage.ts';
import { writesInOrder, type WriteSink } from '../../src/runtime/driver-options.ts';

/** A sink whose writes complete (or fail) only when the test says so. */
function manualSink(): { sink: WriteSink; begun: StorageWrite[]; finish(i: number): void; fail(i: number, e: unknown): void } {
  const begun: StorageWrite[] = [];
  const callbacks: { done: () => void; failed: (e: unknown) => void }[] = [];
  return {
    begun,
    sink: {
      write(w, done, failed) {
        begun.push(w);
        callbacks.push({ done, failed });
      },
    },
    finish: (i) => callbacks[i]?.done(),
    fail: (i, e) => callbacks[i]?.failed(e),
  };
}

const write = (compactTo: number): StorageWrite => ({ ...emptyWrite, compactTo });

describe('writesInOrder', () => {
  it('begins a write only once the one before it is durable, in the order begun', () => {
    const m = manualSink();
    const s = writesInOrder(m.sink);
    const done: number[] = [];
    s.write(write(1), () => done.push(1), () => undefined);
    s.write(write(2), () => done.push(2), () => undefined);
    expect(m.begun.map((w) => w.compactTo)).toEqual([1]);
    m.finish(0);
    expect(done).toEqual([1]);
    expect(m.begun.map((w) => w.compactTo)).toEqual([1, 2]);
    m.finish(1);
    expect(done).toEqual([1, 2]);
    // Idle again: the next write begins at once.
    s.write(write(3), () => done.push(3), () => undefined);
    expect(m.begun.map((w) => w.compactTo)).toEqual([1, 2, 3]);
  });

  it('after a failure begins nothing more and tells every waiting and later write', () => {
    const m = manualSink();
    const s = writesInOrder(m.sink);
    const failed: string[] = [];
    s.write(write(1), () => undefined, (e) => failed.push(`1:${String(e)}`));
    s.write(write(2), () => undefined, (e) => failed.push(`2:${String(e)}`));
    m.fail(0, 'quota');
    expect(failed).toEqual(['1:quota', '2:quota']);
    s.write(write(3), () => undefined, (e) => failed.push(`3:${String(e)}`));
    expect(failed).toEqual(['1:quota', '2:quota', '3:quota']);
    expect(m.begun).toHaveLength(1);
  });

  it('takes a sink that completes at once', () => {
    const order: number[] = [];
    const s = writesInOrder({ write: (w, done) => { order.push(w.compactTo); done(); } });
    const done: number[] = [];
    for (let i = 1; i <= 3; i++) s.write(write(i), () => done.push(i), () => undefined);
    expect(order).toEqual([1, 2, 3]);
    expect(done).toEqual([1, 2, 3]);
  });
});
