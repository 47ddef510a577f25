/**
 * Durable storage for a gossip node (DESIGN.md §2: "gossip: incarnation and CRDT state"), beside
 * the Raft log and apart from it: a gossip-only node has no log, and the two engines' writes
 * never wait on each other. What is kept (src/core/gossip/ready.ts, step 2): the highest
 * incarnation this node ever announced (SWIM §4.2: a restarted node must never claim one twice,
 * or members that heard the first would take its refutations as stale), and each CRDT whole, in
 * its canonical encoding, one record per (name, type), replaced by every write that names it.
 *
 * A write is atomic and writes become durable in call order, as for Raft storage (storage.ts).
 * The incarnation never goes down: a write that would lower it is our bug, refused with a
 * `StorageError` (the node stops and boots again from what is durable). A stored CRDT that its
 * type cannot decode is a corrupt store (`StorageError` at boot), never handed to the engine,
 * which asserts on it.
 */
import type { PersistedCrdt } from '../../core/gossip/crdt-store.ts';
import { crdtTypes } from '../../core/crdt/crdt-types.ts';
import { isCrdtTypeName } from '../../core/crdt/crdt-type-name.ts';
import { StorageError } from './storage.ts';

/** What a gossip node finds at boot. */
export interface GossipDurable {
  /** The highest incarnation announced in an earlier life (0: none). */
  readonly incarnation: number;
  /** The last record of each CRDT (name, type). */
  readonly crdts: readonly PersistedCrdt[];
}

/** One atomic write: the new incarnation (null: unchanged) and the CRDTs to store whole. */
export interface GossipWrite {
  readonly incarnation: number | null;
  readonly crdts: readonly PersistedCrdt[];
}

export interface GossipStorage {
  boot(): Promise<GossipDurable>;
  /** Make one write durable; resolves once it is. */
  write(write: GossipWrite): Promise<void>;
  close(): Promise<void>;
}

export const emptyGossipDurable: GossipDurable = { incarnation: 0, crdts: [] };

/** The record key of a CRDT: its type and name (the engine's store keys them alike). */
export function crdtRecordKey(c: Pick<PersistedCrdt, 'name' | 'crdt'>): string {
  return `${c.crdt}/${c.name}`;
}

/** The incarnation after `write` over `stored`, or a StorageError (never lower it). */
export function nextIncarnation(stored: number, write: GossipWrite): number {
  const next = write.incarnation;
  if (next === null) return stored;
  if (!Number.isSafeInteger(next) || next < stored) throw new StorageError(`gossip incarnation ${next} would replace ${stored}: it never goes down`);
  return next;
}

/** A stored record, checked: a CRDT its type decodes, or a StorageError. */
export function checkStoredCrdt(value: unknown): PersistedCrdt {
  const v = value as Partial<PersistedCrdt> | null;
  if (typeof v !== 'object' || v === null || typeof v.name !== 'string' || !isCrdtTypeName(v.crdt)) throw new StorageError('a stored CRDT record is not a CRDT');
  const decoded = crdtTypes[v.crdt].decode(v.state);
  if (!decoded.ok) throw new StorageError(`the stored CRDT ${v.crdt}/${v.name.slice(0, 64)} does not decode (${decoded.error.reason})`);
  return { name: v.name, crdt: v.crdt, state: v.state as PersistedCrdt['state'] };
}

/** In memory: tests, Node, and browser nodes whose Raft log is in memory too (lost on close). */
export class MemoryGossipStorage implements GossipStorage {
  private incarnation: number;
  private readonly crdts = new Map<string, PersistedCrdt>();
  private closed = false;
  /** Writes made, for tests. */
  writes = 0;

  constructor(initial: GossipDurable = emptyGossipDurable) {
    this.incarnation = initial.incarnation;
    for (const c of initial.crdts) this.crdts.set(crdtRecordKey(c), structuredClone(c));
  }

  boot(): Promise<GossipDurable> {
    try {
      return Promise.resolve({ incarnation: this.incarnation, crdts: [...this.crdts.values()].map(checkStoredCrdt).map((c) => structuredClone(c)) });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  write(write: GossipWrite): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('the gossip storage is closed'));
    try {
      this.incarnation = nextIncarnation(this.incarnation, write);
    } catch (e) {
      return Promise.reject(e);
    }
    for (const c of write.crdts) this.crdts.set(crdtRecordKey(c), structuredClone(c));
    this.writes++;
    return Promise.resolve();
  }

  /** What a restart would find (copies). */
  durable(): GossipDurable {
    return { incarnation: this.incarnation, crdts: [...this.crdts.values()].map((c) => structuredClone(c)) };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
