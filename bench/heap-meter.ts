/**
 * Heap accounting for an in-process benchmark (Node only): the bytes the V8 heap allocated over
 * a span of code, and the most it held at once.
 *
 * V8 keeps no running total of allocated bytes, so it is rebuilt from its collections:
 * allocated = (used at the end - used at the start) + what every collection in between freed
 * (used before - used after, from `v8.GCProfiler`, one record per GC). A full collection runs
 * first, so garbage left by module loading is not counted as freed by the span. The peak is the
 * largest `usedHeapSize` seen before any collection or at the end: the heap is fullest just
 * before it is collected.
 *
 * What it counts: objects on the V8 heap (the JS heap), including small typed arrays; not
 * backing stores of large ArrayBuffers (external memory). Everything the process allocates in
 * the span counts, the benchmark's own bookkeeping too.
 */
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapSpan {
  /** Bytes allocated on the V8 heap during the span. */
  readonly allocatedBytes: number;
  /** The most the V8 heap held in use at once during the span (bytes). */
  readonly peakUsedBytes: number;
  /** What it held at the start, after a full collection (bytes). */
  readonly usedAtStartBytes: number;
  /** Collections during the span, and the time they took (ms, as V8 reports it). */
  readonly gcCount: number;
  readonly gcMs: number;
}

interface GcRecord {
  readonly cost: number;
  readonly beforeGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
  readonly afterGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
}

/** A full collection now, when the runtime lets us ask for one (exposed through a flag). */
function collectFully(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

/** Start measuring; call the answer to stop and read the span. */
export function startHeapSpan(): () => HeapSpan {
  collectFully();
  const profiler = new GCProfiler();
  profiler.start();
  const usedAtStart = getHeapStatistics().used_heap_size;
  return () => {
    const usedAtEnd = getHeapStatistics().used_heap_size;
    const records = (profiler.stop()?.statistics ?? []) as readonly GcRecord[];
    let freed = 0;
    let peak = Math.max(usedAtStart, usedAtEnd);
    let gcMs = 0;
    for (const r of records) {
      const before = r.beforeGC.heapStatistics.usedHeapSize;
      freed += Math.max(0, before - r.afterGC.heapStatistics.usedHeapSize);
      if (before > peak) peak = before;
      gcMs += r.cost / 1000;
    }
    return { allocatedBytes: usedAtEnd - usedAtStart + freed, peakUsedBytes: peak, usedAtStartBytes: usedAtStart, gcCount: records.length, gcMs };
  };
}
