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
 *
 * An id is its node only while the node's durable state exists. Raft's one vote per term rests
 * on the vote being on disk: a node whose database the browser evicted, booted empty under its
 * old id, could vote a second time in a term it already voted in. So the tab records in
 * `sessionStorage`, once its node has durable state, a marker `durable` for that cluster and id
 * (`markDurable`); a tab that takes its id from `sessionStorage` again, finds the marker, and
 * finds the node's storage empty (`decideIncarnation`), does not run the old id: it takes a
 * fresh id and joins as a learner (create-node.ts). The marker lives in `sessionStorage`, which
 * storage eviction does not clear.
 *
 * The look at the node's database happens BEFORE any worker runs the old id
 * (`evictedAtStart`, through src/io/storage/indexeddb-peek.ts, which does not create the
 * database): starting the node and then reading its boot summary would leave it a moment to
 * vote as its amnesiac self. The worker's boot summary is checked as well (`evictedAtBoot`), a
 * backstop for a database that vanishes between the look and the boot. The old id stays in the
 * cluster's configuration as a voter that never answers, until an operator or the autopilot
 * (`removeUnreachableVoterAfterTicks`) removes it. Limits: a NEW tab has no marker and cannot
 * know; an id the page passes itself (`options.id`) is the page's to manage; memory storage is
 * lost on every reload by design and is not checked.
 */
import type { NodeId } from '../core/raft/types.ts';
import { peekStoredState } from '../io/storage/indexeddb-peek.ts';
import type { BootSummary, NodeEvent, StorageSpec } from '../runtime/worker-protocol.ts';
import { aliveLockName, holdLock, locksAvailable, type LockHold } from './locks.ts';
import { NodeError } from './node-error.ts';

/** Where a claimed id came from (the list above): `page`, `session`, `peers`, or `fresh`. */
export type IdSource = 'page' | 'session' | 'peers' | 'fresh';

export interface ClaimedId {
  readonly id: NodeId;
  /** The liveness lock, null where Web Locks do not exist (an insecure context). */
  readonly hold: LockHold | null;
  readonly source: IdSource;
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
  const wantedSource: IdSource = options.id !== undefined ? 'page' : 'session';
  if (!locksAvailable()) {
    if (wanted === null) throw new NodeError('CONFIG', 'Web Locks are not available here (an insecure context?): pass an id');
    keepId(cluster, wanted);
    return { id: wanted, hold: null, source: wantedSource };
  }
  if (wanted !== null) {
    const hold = await waitForLock(aliveLockName(cluster, wanted), options.lockWaitMs);
    if (hold !== null) {
      keepId(cluster, wanted);
      return { id: wanted, hold, source: wantedSource };
    }
    if (options.id !== undefined) throw new NodeError('ID_IN_USE', `node ${wanted} of ${cluster} is running in another tab`);
  }
  for (const id of options.peers) {
    const hold = await holdLock(aliveLockName(cluster, id), { ifAvailable: true });
    if (hold !== null) {
      keepId(cluster, id);
      return { id, hold, source: 'peers' };
    }
  }
  if (options.join === true) return claimFreshId(cluster, options.peers);
  throw new NodeError('ID_IN_USE', `every node of ${cluster} (${options.peers.join(', ')}) is running in another tab`);
}

/** A fresh id (see `freshId`), its lock held, kept in `sessionStorage` as this tab's id. */
export async function claimFreshId(cluster: string, peers: readonly NodeId[]): Promise<ClaimedId> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const id = freshId(peers);
    const hold = locksAvailable() ? await holdLock(aliveLockName(cluster, id), { ifAvailable: true }) : null;
    if (hold !== null || !locksAvailable()) {
      keepId(cluster, id);
      return { id, hold, source: 'fresh' };
    }
  }
  throw new NodeError('ID_IN_USE', `no fresh id of ${cluster} was free after 8 tries`);
}

// ---- the durable marker and the eviction decision ---------------------------------------------

export function durableMarkerKey(cluster: string, id: NodeId): string {
  return `peerquorum/${encodeURIComponent(cluster)}/durable/${encodeURIComponent(id)}`;
}

/** Whether this tab's node `id` had durable state (it booted from some, or wrote some). */
export function hasDurableMarker(cluster: string, id: NodeId): boolean {
  try {
    const session = globalThis.sessionStorage as Storage | undefined;
    return session !== undefined && session.getItem(durableMarkerKey(cluster, id)) !== null;
  } catch {
    return false;
  }
}

export function markDurable(cluster: string, id: NodeId): void {
  try {
    globalThis.sessionStorage?.setItem(durableMarkerKey(cluster, id), 'durable');
  } catch {
    // Storage disabled: an eviction then goes unnoticed, as before the marker existed.
  }
}

export function clearDurableMarker(cluster: string, id: NodeId): void {
  try {
    globalThis.sessionStorage?.removeItem(durableMarkerKey(cluster, id));
  } catch {
    // Nothing to clear.
  }
}

/** Whether a boot found nothing at all: no term, no vote, no log, no snapshot. */
export function isEmptyBoot(boot: BootSummary): boolean {
  return boot.term === 0 && boot.vote === null && boot.commit === 0 && boot.lastIndex === 0 && boot.snapshotIndex === 0;
}

/**
 * Whether a tab may run its node under the id it ran before: `run`, unless the node had durable
 * state (`hadDurableState`, the marker) and its storage now holds none (`found`, what a look at
 * the storage or the worker's boot found; null: unknown): then `rejoin` under a new id. Pure.
 */
export function decideIncarnation(hadDurableState: boolean, found: BootSummary | null): 'run' | 'rejoin' {
  if (!hadDurableState || found === null) return 'run';
  return isEmptyBoot(found) ? 'rejoin' : 'run';
}

/**
 * Whether a node's event shows that it has written durable state: the driver emits role, leader
 * and commit events after a Ready is durable, and a term above 0 (or a commit) is only ever
 * reached through a Ready that wrote it.
 */
export function eventShowsDurableState(e: NodeEvent): boolean {
  if (e.type === 'role' || e.type === 'leader') return e.term > 0;
  if (e.type === 'commit') return e.index > 0;
  return false;
}

/** Two locks held as one (released together). */
export function holdBoth(a: LockHold | null, b: LockHold | null): LockHold | null {
  if (a === null || b === null) return a ?? b;
  return {
    name: b.name,
    release: () => {
      a.release();
      b.release();
    },
  };
}

/** A new id for a joining tab: the first peer's prefix (`n` of `n1`, else `t`), a dash, 6 random base-36 characters. */
function freshId(peers: readonly NodeId[]): NodeId {
  const prefix = /^[a-z]+/i.exec(peers[0] ?? '')?.[0] ?? 't';
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `${prefix}-${[...bytes].map((b) => (b % 36).toString(36)).join('')}`;
}

// ---- the eviction path (create-node.ts) -------------------------------------------------------

/** A node that came back under a new id because its old self's durable state was gone. */
export interface Rejoined {
  readonly oldId: NodeId;
  readonly newId: NodeId;
}

/** Whether `claimed`, this tab's id from sessionStorage, lost the durable state its node had: a look, before it runs. */
export async function evictedAtStart(cluster: string, claimed: ClaimedId, storage: StorageSpec): Promise<boolean> {
  if (storage !== 'indexeddb' || claimed.source !== 'session' || !hasDurableMarker(cluster, claimed.id)) return false;
  return decideIncarnation(true, await peekStoredState({ cluster, node: claimed.id })) === 'rejoin';
}

/** The same question, from what the worker's storage held at boot. */
export function evictedAtBoot(cluster: string, claimed: ClaimedId, storage: StorageSpec, boot: BootSummary): boolean {
  if (storage !== 'indexeddb' || claimed.source !== 'session') return false;
  return decideIncarnation(hasDurableMarker(cluster, claimed.id), boot) === 'rejoin';
}

/**
 * A fresh id for this tab, to join as a learner instead of `old`. With `keepOld`, the old id's
 * lock stays held with the new one while the tab lives: no other tab of this browser runs the
 * old id, with nothing, meanwhile. Without `join`, refuses with STORAGE.
 */
export async function rejoinUnderNewId(cluster: string, peers: readonly NodeId[], old: ClaimedId, join: boolean, keepOld: boolean): Promise<{ claimed: ClaimedId; rejoined: Rejoined }> {
  if (!join) {
    if (keepOld) old.hold?.release();
    throw new NodeError('STORAGE', `the stored state of node ${old.id} of ${cluster} is gone (evicted by the browser?): it must not run as its old self, and join is false`);
  }
  let fresh: ClaimedId;
  try {
    fresh = await claimFreshId(cluster, peers);
  } catch (e) {
    if (keepOld) old.hold?.release();
    throw e;
  }
  clearDurableMarker(cluster, old.id);
  return { claimed: { ...fresh, hold: keepOld ? holdBoth(old.hold, fresh.hold) : fresh.hold }, rejoined: { oldId: old.id, newId: fresh.id } };
}
