/**
 * Durable storage for a gossip node (DESIGN.md §2: "gossip: incarnation and CRDT state"), beside
 * the Raft log and apart from it: a gossip-only node has no log, and the two engines' writes
 * never wait on each other. Little is kept: the highest incarnation this node ever announced
 * (SWIM §4.2: a restarted node must never claim one twice, or members that heard the first would
 * take its refutations as stale), and, for the replication data plane, named records of bytes
 * (a CRDT's state under its name).
 *
 * A write is atomic and writes become durable in call order, as for Raft storage (storage.ts).
 * The incarnation never goes down: a write that would lower it is our bug, refused with a
 * `StorageError` (the node stops and boots again from what is durable).
 */
import { StorageError } from './storage.ts';

/** What a gossip node finds at boot. */
export interface GossipDurable {
  /** The highest incarnation announced in an earlier life (0: none). */
  readonly incarnation: number;
  /** The data plane's records, by key. */
  readonly records: ReadonlyMap<string, Uint8Array>;
}

/** One atomic write: the new incarnation (null: unchanged), records to put and keys to delete. */
export interface GossipWrite {
  readonly incarnation: number | null;
  readonly put?: ReadonlyMap<string, Uint8Array>;
  readonly delete?: readonly string[];
}

export interface GossipStorage {
  boot(): Promise<GossipDurable>;
  /** Make one write durable; resolves once it is. */
  write(write: GossipWrite): Promise<void>;
  close(): Promise<void>;
}

export const emptyGossipDurable: GossipDurable = { incarnation: 0, records: new Map() };

/** The incarnation after `write` over `stored`, or a StorageError (never lower it). */
export function nextIncarnation(stored: number, write: GossipWrite): number {
  const next = write.incarnation;
  if (next === null) return stored;
  if (!Number.isSafeInteger(next) || next < stored) throw new StorageError(`gossip incarnation ${next} would replace ${stored}: it never goes down`);
  return next;
}

/** In memory: tests, Node, and browser nodes whose Raft log is in memory too (lost on close). */
export class MemoryGossipStorage implements GossipStorage {
  private incarnation: number;
  private readonly records: Map<string, Uint8Array>;
  private closed = false;
  /** Writes made, for tests. */
  writes = 0;

  constructor(initial: GossipDurable = emptyGossipDurable) {
    this.incarnation = initial.incarnation;
    this.records = new Map([...initial.records].map(([k, v]) => [k, v.slice()]));
  }

  boot(): Promise<GossipDurable> {
    return Promise.resolve(this.durable());
  }

  write(write: GossipWrite): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('the gossip storage is closed'));
    try {
      this.incarnation = nextIncarnation(this.incarnation, write);
    } catch (e) {
      return Promise.reject(e);
    }
    for (const key of write.delete ?? []) this.records.delete(key);
    for (const [key, value] of write.put ?? []) this.records.set(key, value.slice());
    this.writes++;
    return Promise.resolve();
  }

  /** What a restart would find (copies). */
  durable(): GossipDurable {
    return { incarnation: this.incarnation, records: new Map([...this.records].map(([k, v]) => [k, v.slice()])) };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
