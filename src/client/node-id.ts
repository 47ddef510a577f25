/**
 * A tab's node id (DESIGN.md §6): kept in `sessionStorage`, so that it survives a reload (the
 * node comes back with its log from IndexedDB) but not a new tab. The id is this tab's only
 * while it holds the id's liveness lock (locks.ts): a duplicated tab, which copies
 * `sessionStorage`, finds the lock taken and picks another id.
 *
 * Where the id comes from, in order:
 *   1. `id` given by the page: wait for its lock (a reloading tab may still be releasing it);
 *   2. the id kept in `sessionStorage`: likewise, but if it stays taken, fall through;
 *   3. the first of `peers` (the cluster's initial voters) whose lock is free: a fixed set of
 *      ids shared out among the tabs of one browser;
 *   4. with `join`, when every one of `peers` runs elsewhere: a fresh id (`<prefix>-` and 6
 *      random base-36 characters); the node joins the running cluster as a learner.
 */
import type { NodeId } from '../core/raft/types.ts';
import { aliveLockName, holdLock, locksAvailable, type LockHold } from './locks.ts';
import { NodeError } from './node-error.ts';

export interface ClaimedId {
  readonly id: NodeId;
  /** The liveness lock, null where Web Locks do not exist (an insecure context). */
  readonly hold: LockHold | null;
}

export function storedIdKey(cluster: string): string {
  return `peerquorum/${encodeURIComponent(cluster)}/id`;
}

function storedId(cluster: string): NodeId | null {
  try {
    return globalThis.sessionStorage?.getItem(storedIdKey(cluster)) ?? null;
  } catch {
    return null;
  }
}

function keepId(cluster: string, id: NodeId): void {
  try {
    globalThis.sessionStorage?.setItem(storedIdKey(cluster), id);
  } catch {
    // Storage disabled: the id just does not survive a reload.
  }
}

async function waitForLock(name: string, waitMs: number): Promise<LockHold | null> {
  try {
    return await holdLock(name, { signal: AbortSignal.timeout(waitMs) });
  } catch {
    return null;
  }
}

export async function claimNodeId(
  cluster: string,
  options: { readonly id?: NodeId | undefined; readonly peers: readonly NodeId[]; readonly lockWaitMs: number; readonly join?: boolean },
): Promise<ClaimedId> {
  const wanted = options.id ?? storedId(cluster);
  if (!locksAvailable()) {
    if (wanted === null) throw new NodeError('CONFIG', 'Web Locks are not available here (an insecure context?): pass an id');
    keepId(cluster, wanted);
    return { id: wanted, hold: null };
  }
  if (wanted !== null) {
    const hold = await waitForLock(aliveLockName(cluster, wanted), options.lockWaitMs);
    if (hold !== null) {
      keepId(cluster, wanted);
      return { id: wanted, hold };
    }
    if (options.id !== undefined) throw new NodeError('ID_IN_USE', `node ${wanted} of ${cluster} is running in another tab`);
  }
  for (const id of options.peers) {
    const hold = await holdLock(aliveLockName(cluster, id), { ifAvailable: true });
    if (hold !== null) {
      keepId(cluster, id);
      return { id, hold };
    }
  }
  if (options.join === true) {
    for (let attempt = 0; attempt < 8; attempt++) {
      const id = freshId(options.peers);
      const hold = await holdLock(aliveLockName(cluster, id), { ifAvailable: true });
      if (hold !== null) {
        keepId(cluster, id);
        return { id, hold };
      }
    }
  }
  throw new NodeError('ID_IN_USE', `every node of ${cluster} (${options.peers.join(', ')}) is running in another tab`);
}

/** A new id for a joining tab: the first peer's prefix (`n` of `n1`, else `t`), a dash, 6 random base-36 characters. */
function freshId(peers: readonly NodeId[]): NodeId {
  const prefix = /^[a-z]+/i.exec(peers[0] ?? '')?.[0] ?? 't';
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `${prefix}-${[...bytes].map((b) => (b % 36).toString(36)).join('')}`;
}
