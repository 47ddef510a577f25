/**
 * The CRDTs a gossip node holds: (name, type) → state, with each state's canonical encoding,
 * its digest and its size kept beside it, and a Merkle tree over the digests for anti-entropy
 * (src/core/crdt/merkle.ts). A CRDT is keyed by name AND type (`storeKey`), as the OR-Map keys
 * its fields (Riak's choice): two replicas that create a counter and a set under one name
 * concurrently hold two CRDTs, never a conflict that no merge could settle.
 *
 * Every change of a state goes through `put`, which encodes the new state once and keeps what
 * every later use needs: the encoding (persisted by the host, shipped by anti-entropy), its
 * digest (the tree's leaf entry), its msgpack bytes and values (the bounds). A state equal to
 * its type's empty state is not in the tree: "absent" and "empty" are one state, and must
 * digest alike on both sides.
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
function emptyWire(crdt: CrdtTypeName): WireValue {
  let wire = emptyWires.get(crdt);
  if (wire === undefined) emptyWires.set(crdt, (wire = crdtType(crdt).encode(crdtType(crdt).empty())));
  return wire;
}

export class CrdtStore {
  private readonly entries = new Map<string, CrdtEntry>();
  readonly tree: MerkleTree;
  /** Bytes of every encoded state held. */
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
    const entry: CrdtEntry = { key, name, crdt, type, state: type.empty(), wire, digest: digestWire(wire), bytes: msgpackBytes(wire), values: wireValues(wire) };
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    return entry;
  }

  /**
   * `state` (already encoded as `wire`) replaces the entry's: sizes, digest and tree follow.
   * Returns false, changing nothing, when the encoding is the one held (the same state).
   */
  put(entry: CrdtEntry, state: unknown, wire: WireValue): boolean {
    if (wireEquals(wire, entry.wire)) return false;
    const bytes = msgpackBytes(wire);
    this.bytes += bytes - entry.bytes;
    entry.state = state;
    entry.wire = wire;
    entry.bytes = bytes;
    entry.values = wireValues(wire);
    entry.digest = digestWire(wire);
    if (wireEquals(wire, emptyWire(entry.crdt))) this.tree.delete(entry.key);
    else this.tree.set(entry.key, entry.digest);
    return true;
  }

  /** Whether the entry holds its type's empty state (nothing to persist or ship). */
  isEmpty(entry: CrdtEntry): boolean {
    return this.tree.digestOf(entry.key) === undefined;
  }
}
