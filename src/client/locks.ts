/**
 * Web Locks, as the tabs of one browser use them (DESIGN.md §6):
 *
 * - Each node holds, for its whole life, an exclusive lock named after itself,
 *   `peerquorum/<cluster>/alive/<id>`. Holding it is also what makes an id this tab's: two tabs
 *   never run the same node (one log, one vote) at once.
 * - The failure oracle: a follower queues a request for the lock of the leader it follows. The
 *   browser grants it the moment the holder's document is gone (closed, crashed, navigated
 *   away), so the follower learns at once that its leader is gone and tells the driver
 *   (`leaderGone`), instead of waiting out an election timeout. The request is `shared`, so
 *   that every follower is granted at once, and it is released as soon as it is granted, so
 *   that a reloaded leader tab gets its own lock back.
 */
import type { NodeId } from '../core/raft/types.ts';

export interface LockHold {
  readonly name: string;
  /** Give the lock back (idempotent). */
  release(): void;
}

export function locksAvailable(): boolean {
  return typeof navigator !== 'undefined' && navigator.locks !== undefined;
}

export function aliveLockName(cluster: string, id: NodeId): string {
  return `peerquorum/${encodeURIComponent(cluster)}/alive/${encodeURIComponent(id)}`;
}

/**
 * Take the exclusive lock `name` and keep it until `release()`. With `ifAvailable`, answers null
 * at once when someone else holds it; with `signal`, rejects with an `AbortError` if aborted
 * before it is granted.
 */
export function holdLock(name: string, options: { readonly ifAvailable?: boolean; readonly signal?: AbortSignal } = {}): Promise<LockHold | null> {
  return new Promise<LockHold | null>((resolve, reject) => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const lockOptions: LockOptions = { mode: 'exclusive' };
    if (options.ifAvailable === true) lockOptions.ifAvailable = true;
    if (options.signal !== undefined) lockOptions.signal = options.signal;
    navigator.locks
      .request(name, lockOptions, (lock) => {
        if (lock === null) {
          resolve(null);
          return undefined;
        }
        resolve({ name, release });
        return released;
      })
      .catch(reject);
  });
}

/**
 * Watches the liveness lock of the leader a node follows; `follow` is called on every leader
 * change. `onGone(leader)` runs once the lock is granted while that leader is still the one
 * followed.
 *
 * A leader whose lock nobody holds here is not a tab of this browser (a WebRTC peer elsewhere):
 * the lock says nothing about it, and is not watched (else it would be granted at once and
 * depose a live leader). A node takes its own lock before it starts, so a leader that is a tab
 * here always holds its lock by the time anyone can follow it.
 */
export class LeaderWatch {
  private watched: { readonly leader: NodeId; readonly abort: AbortController } | null = null;
  private closed = false;

  constructor(
    private readonly cluster: string,
    private readonly self: NodeId,
    private readonly onGone: (leader: NodeId) => void,
  ) {}

  /** The leader now followed (null: none). */
  follow(leader: NodeId | null): void {
    if (this.closed || this.watched?.leader === leader) return;
    this.stop();
    if (leader === null || leader === this.self || !locksAvailable()) return;
    const w = { leader, abort: new AbortController() };
    this.watched = w;
    void this.watch(w);
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  private stop(): void {
    this.watched?.abort.abort();
    this.watched = null;
  }

  private async watch(w: { readonly leader: NodeId; readonly abort: AbortController }): Promise<void> {
    const name = aliveLockName(this.cluster, w.leader);
    try {
      const state = await navigator.locks.query();
      if (w.abort.signal.aborted) return;
      if (!(state.held ?? []).some((l) => l.name === name)) return;
      await navigator.locks.request(name, { mode: 'shared', signal: w.abort.signal }, () => {
        // Granted: the holder's document is gone. Released on return.
        if (this.watched !== w) return;
        this.watched = null;
        this.onGone(w.leader);
      });
    } catch {
      // Aborted: the leader changed or the node closed.
    }
  }
}
