/**
 * What the tests of Node nodes in worker threads share: a wait that polls an async probe (a
 * node's `status()`) until it answers, bounded, and the clean-up that stops every node started
 * (without a hand-over: the cluster goes with them) and removes their data directories.
 */
import { rm } from 'node:fs/promises';
import type { NodeKvNode } from '../../src/node/index.ts';

/** How often `until` asks its probe again. */
const pollMs = 20;

/** An `until` whose waits time out after `timeoutMsDefault` unless a call says otherwise. */
export function untilWithin(timeoutMsDefault: number) {
  return async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = timeoutMsDefault): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
}

/** Stop every node (errors ignored: a crashed one is already gone), then remove `root`. */
export async function stopAllAndRemove(nodes: Iterable<NodeKvNode>, root: string): Promise<void> {
  await Promise.all([...nodes].map((n) => n.stop({ handOver: false }).catch(() => undefined)));
  await rm(root, { recursive: true, force: true });
}
