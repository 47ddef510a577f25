/**
 * The CRDTs a gossip node holds: (name, type) → state, with each state's canonical encoding,
 * its digest and its size kept beside it, and a Merkle tree over the digests for anti-entropy
 * (src/core/crdt/merkle.ts). A CRDT is keyed by name AND type (`storeKey`), as the OR-Map keys
 * its fields (Riak's choice): two replicas that create a counter and a set under one name
 * concurrently hold two CRDTs, never a conflict that no merge could settle.
 *
 * Beside each state the store keeps what every later use needs: its canonical encoding
 * (persisted by the host, shipped by anti-entropy), its digest (the tree's leaf entry), its
 * msgpack bytes and values (the bounds). Encoding a state costs time in proportion to the state
 * (2 ms for an OR-Set of 5,000 elements, as much as the merge itself), so a local update only
 * `stage`s its new state, with an upper bound of its growth (the delta's size), and the encoding
 * is brought up to date when something reads it: `wireOf` to persist (the encoding alone, at
 * most once per `crdtPersistIntervalTicks`), `refresh` before anti-entropy reads the tree (the
 * digest and sizes too). A peer's merge stages its state the same way: it needs no encoding to
 * see whether it held news (merge-delta.ts). A state equal to its type's
 * empty state is not in the tree: "absent" and "empty" are one state, and must digest alike on
 * both sides.
 *
 * Bounds: at most `crdtsMax` CRDTs and `crdtBytesMax` bytes of encoded state in all, checked by
 * `room` before a new CRDT is made (by a local update or a peer's state); an existing CRDT
 * always takes a merge, whatever its size (a replica may not refuse a join and still converge).
 */
import { assert } from '../assert.ts';
import { crdtType, type CrdtType, wireEquals } from '../crdt/crdt-types.ts';
import type { CrdtTypeName } from '../crdt/crdt-type-name.ts';
import { msgpackBytes } from '../crdt/merkle-cost.ts';
import { digestWire } from '../crdt/merkle-hash.ts';
import { MerkleTree } from '../crdt/merkle.ts';
import type { WireValue } from '../crdt/wire-reader.ts';

/** A CRDT as the host persists it, and boots it (`GossipBoot.crdts`). */
export interface PersistedCrdt {
  readonly name: string;
  readonly crdt: CrdtTypeName;
  /** The canonical encoding (`crdtTypes[crdt].encode`); the host stores it as it is. */
  readonly state: WireValue;
}

export interface CrdtEntry {
  readonly key: string;
  readonly name: string;
  readonly crdt: CrdtTypeName;
  readonly type: CrdtType<unknown, unknown>;
  state: unknown;
  wire: WireValue;
  digest: number;
  /** msgpack bytes of `wire`. */
  bytes: number;
  /** msgpack values of `wire` (every array and scalar counts one). */
  values: number;
  /** `state` changed since `wire` was made (`stage`): wire, digest, bytes and values are stale until `refresh`. */
  stale: boolean;
  /** While stale: `wire` was brought up to date by `wireOf` (digest, sizes and tree leaf still wait for `refresh`). */
  wireFresh: boolean;
  /** While stale: at most how many bytes and values the state grew by since (the staged deltas' sizes). */
  growthBytes: number;
  growthValues: number;
}

/** The store key of a CRDT: `<type>/<name>` (a type name holds no '/', so the first one splits). */
export function storeKey(name: string, crdt: CrdtTypeName): string {
  return `${crdt}/${name}`;
}

/** msgpack values of an encoded state, as the codec's pre-scan counts them. */
export function wireValues(value: WireValue): number {
  if (!Array.isArray(value)) return 1;
  let values = 1;
  for (const item of value as readonly WireValue[]) values += Array.isArray(item) ? wireValues(item) : 1;
  return values;
}

const emptyWires = new Map<CrdtTypeName, WireValue>();

/** The encoding of `crdt`'s empty state. */
export function emptyWire(crdt: CrdtTypeName): WireValue {
  let wire = emptyWires.get(crdt);
  if (wire === undefined) emptyWires.set(crdt, (wire = crdtType(crdt).encode(crdtType(crdt).empty())));
  return wire;
}

export class CrdtStore {
  private readonly entries = new Map<string, CrdtEntry>();
  private readonly stale = new Set<CrdtEntry>();
  readonly tree: MerkleTree;
  /** Bytes of every encoded state held (stale ones counted at their bound). */
  bytes = 0;

  constructor(
    private readonly crdtsMax: number,
    private readonly crdtBytesMax: number,
    treeDepth: number,
  ) {
    this.tree = new MerkleTree(treeDepth);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CrdtEntry | undefined {
    return this.entries.get(key);
  }

  values(): IterableIterator<CrdtEntry> {
    return this.entries.values();
  }

  /** Whether a new CRDT of `bytes` more fits the bounds. */
  room(bytes: number): boolean {
    return this.entries.size < this.crdtsMax && this.bytes + bytes <= this.crdtBytesMax;
  }

  /** A new CRDT holding the empty state (the caller checked `room`). */
  create(name: string, crdt: CrdtTypeName): CrdtEntry {
    const key = storeKey(name, crdt);
    assert(!this.entries.has(key), 'create of a CRDT already held');
    const type = crdtType(crdt);
    const wire = emptyWire(crdt);
    const entry: CrdtEntry = {
      key,
      name,
      crdt,
      type,
      state: type.empty(),
      wire,
      digest: digestWire(wire),
      bytes: msgpackBytes(wire),
      values: wireValues(wire),
      stale: false,
      wireFresh: true,
      growthBytes: 0,
      growthValues: 0,
    };
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    return entry;
  }

  /** `state`, already encoded as `wire` (a different state from the one held), replaces the entry's: sizes, digest and tree follow. */
  put(entry: CrdtEntry, state: unknown, wire: WireValue): void {
    const bytes = msgpackBytes(wire);
    this.bytes += bytes - entry.bytes - entry.growthBytes;
    entry.state = state;
    entry.wire = wire;
    entry.bytes = bytes;
    entry.values = wireValues(wire);
    entry.digest = digestWire(wire);
    entry.stale = false;
    entry.wireFresh = true;
    entry.growthBytes = 0;
    entry.growthValues = 0;
    this.stale.delete(entry);
    if (wireEquals(wire, emptyWire(entry.crdt))) this.tree.delete(entry.key);
    else this.tree.set(entry.key, entry.digest);
  }

  /**
   * `state` replaces the entry's, not encoded yet: it grew by at most `bytes` and `values` (its
   * delta's sizes: a join never holds more than both sides). `refresh` encodes it.
   */
  stage(entry: CrdtEntry, state: unknown, bytes: number, values: number): void {
    entry.state = state;
    entry.stale = true;
    entry.wireFresh = false;
    entry.growthBytes += bytes;
    entry.growthValues += values;
    this.bytes += bytes;
    this.stale.add(entry);
  }

  /** At most how many bytes and values the entry's state takes encoded (exact unless stale). */
  boundOf(entry: CrdtEntry): { readonly bytes: number; readonly values: number } {
    return { bytes: entry.bytes + entry.growthBytes, values: entry.values + entry.growthValues };
  }

  /** Brings a staged entry's encoding, digest, sizes and tree leaf up to date. */
  refresh(entry: CrdtEntry): void {
    if (entry.stale) this.put(entry, entry.state, entry.wireFresh ? entry.wire : entry.type.encode(entry.state));
  }

  /**
   * The entry's canonical encoding, made now if staged; its digest, sizes and tree leaf wait for
   * `refresh` (what persisting needs is the encoding alone: the digest of a large state costs
   * about half as much again, and only anti-entropy reads it).
   */
  wireOf(entry: CrdtEntry): WireValue {
    if (entry.stale && !entry.wireFresh) {
      entry.wire = entry.type.encode(entry.state);
      entry.wireFresh = true;
    }
    return entry.wire;
  }

  /** `refresh` of every staged entry (before a Ready, and before anti-entropy reads the tree). */
  refreshAll(): void {
    for (const entry of [...this.stale]) this.refresh(entry);
  }

  /** Whether the entry holds its type's empty state (nothing to persist or ship); the entry must be fresh. */
  isEmpty(entry: CrdtEntry): boolean {
    assert(!entry.stale, 'isEmpty of a stale entry');
    return this.tree.digestOf(entry.key) === undefined;
  }
}
