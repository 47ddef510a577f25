/**
 * The bounds the codec puts on everything a peer controls (TIGER_STYLE: a limit on everything,
 * units last). Whatever a peer sends, a node allocates, loops over and keeps no more than these
 * allow, and every bound is checked BEFORE the work it bounds (a length before the bytes are
 * read, a count of values before msgpackr builds them). docs/protocol.md "Limits" is the table.
 *
 * Two kinds:
 * - `CodecLimits`: configuration of each node (all nodes of a cluster should agree). The defaults
 *   sit comfortably above what the core sends with its own defaults (`raftDefaults`: 1,024
 *   entries and about 1 MiB per append, commands up to 1 MiB, 64 KiB snapshot chunks, snapshots
 *   up to 256 MiB), so that a cluster with default settings never drops its own frames. A driver
 *   that raises the core's limits must raise these to match (`resolveCodecLimits`), or its peers
 *   drop the larger frames.
 * - Protocol constants (`termMax`, `indexMax`, `roundMax`): the same for every node, because a
 *   value one node accepts and another refuses would split a cluster.
 */
import { ConfigError } from '../core/raft/errors.ts';

export interface CodecLimits {
  /** Largest frame accepted or produced, in bytes, header, body and tag included. */
  readonly frameBytesMax: number;
  /** Longest cluster name, in Unicode code points (with the defaults, `clusterBytesMax` is the tighter bound). */
  readonly clusterCharsMax: number;
  /** Longest node id (envelope, body, `transferee`, `node`, members), in code points. */
  readonly idCharsMax: number;
  /** Longest cluster name, in UTF-8 bytes (at most 255: the v2 header gives it one length byte). */
  readonly clusterBytesMax: number;
  /** Longest node id anywhere in a frame, in UTF-8 bytes (at most 255, as for the cluster). */
  readonly nodeIdBytesMax: number;
  /** Most entries in one `append`, and most commands in one `propose` (each becomes one entry). */
  readonly entriesPerFrameMax: number;
  /**
   * Largest command, in bytes: the `data` of an entry, and each command of a `propose`. Keep it
   * at least the core's `maxCommandBytes`, or entries the leader accepted are dropped on the wire.
   */
  readonly entryDataBytesMax: number;
  /** Most members (voters plus learners) in one configuration. */
  readonly confMembersMax: number;
  /** Largest snapshot chunk (`snapshot.data`), in bytes. */
  readonly snapshotChunkBytesMax: number;
  /**
   * Largest snapshot, in bytes: a chunk must end at or below it, and an acknowledgement may not
   * claim more. (The core enforces the node's own `maxSnapshotBytes` when it installs one.)
   */
  readonly snapshotBytesMax: number;
  /**
   * Most msgpack values in one body: every map, array, key and element counts once, scalars
   * included. Checked by the pre-scan before msgpackr builds anything, so a frame's heap cost is
   * bounded by a count, not only by its bytes (a value can take one byte on the wire and 60 in
   * the heap). At least `valuesPerFrameFloor` of the other limits.
   */
  readonly valuesPerFrameMax: number;
}

const mebibyte = 1024 * 1024;

/**
 * The highest term a message may carry. 2^48 leaves room to count up without leaving the safe
 * integers: a term of 2^53 - 1 in a heartbeat used to stop every node that adopted it, because the
 * next election's term could not be encoded. No real cluster nears 2^48 elections (one a second
 * for nine million years).
 */
export const termMax = 2 ** 48;
/** The highest log index (and commit index) a message may carry; as for terms, a million entries a second would take nine years. */
export const indexMax = 2 ** 48;
/** The highest heartbeat round a message may carry (rounds restart at every term). */
export const roundMax = 2 ** 48;

/** Values an entry takes at most in the floor below (a map, four keys, four values, one spare). */
const valuesPerEntryFloor = 10;
/** Values a configuration member takes in the floor below: two configurations in full (a snapshot's and an entry's), doubled. */
const valuesPerMemberFloor = 4;
/** Values for everything else in a body: the message map, its keys and scalar fields. */
const valuesBodySlack = 64;

/**
 * The fewest values a body of a full `append` (`entriesPerFrameMax` plain entries beside full
 * configurations) can need: `valuesPerFrameMax` may not go below it, or legitimate frames would be
 * refused.
 */
export function valuesPerFrameFloor(limits: Pick<CodecLimits, 'entriesPerFrameMax' | 'confMembersMax'>): number {
  return valuesPerEntryFloor * limits.entriesPerFrameMax + valuesPerMemberFloor * limits.confMembersMax + valuesBodySlack;
}

/** The default when `valuesPerFrameMax` is not given: 64 Ki values (a few MiB of heap at most). */
const valuesPerFrameDefault = 65_536;

/** An id's or a cluster's length is one byte of the v2 header. */
const nameBytesCeiling = 255;
/** The v2 header gives the body a 32-bit length. */
const frameBytesCeiling = 2 ** 32 - 1;

export const codecLimitsDefault: CodecLimits = Object.freeze({
  frameBytesMax: 4 * mebibyte,
  clusterCharsMax: 128,
  idCharsMax: 128,
  clusterBytesMax: 128,
  nodeIdBytesMax: 64,
  entriesPerFrameMax: 4096,
  entryDataBytesMax: 1 * mebibyte,
  confMembersMax: 256,
  snapshotChunkBytesMax: 1 * mebibyte,
  snapshotBytesMax: 1024 * mebibyte,
  valuesPerFrameMax: valuesPerFrameDefault,
});

/**
 * The codec's limits with `overrides` applied, checked once: every limit a positive safe integer
 * (a NaN limit would silently admit everything), name lengths within the header's one byte, and
 * `valuesPerFrameMax` at least `valuesPerFrameFloor`. When `valuesPerFrameMax` is not given it
 * grows with `entriesPerFrameMax` and `confMembersMax` as needed. Throws `ConfigError`: a bad
 * limit is a configuration mistake found at startup, not an input from the network.
 */
export function resolveCodecLimits(overrides: Partial<CodecLimits> = {}): CodecLimits {
  const merged: CodecLimits = { ...codecLimitsDefault, ...overrides };
  const floor = valuesPerFrameFloor(merged);
  const limits: CodecLimits =
    overrides.valuesPerFrameMax === undefined ? { ...merged, valuesPerFrameMax: Math.max(valuesPerFrameDefault, floor) } : merged;
  for (const name of Object.keys(codecLimitsDefault) as (keyof CodecLimits)[]) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ConfigError(`codec limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  for (const name of ['clusterBytesMax', 'nodeIdBytesMax'] as const) {
    if (limits[name] > nameBytesCeiling) throw new ConfigError(`codec limit ${name} must be at most ${nameBytesCeiling} (one length byte), got ${limits[name]}`);
  }
  if (limits.frameBytesMax > frameBytesCeiling) {
    throw new ConfigError(`codec limit frameBytesMax must be at most ${frameBytesCeiling} (a 32-bit length), got ${limits.frameBytesMax}`);
  }
  if (limits.valuesPerFrameMax < floor) {
    throw new ConfigError(
      `codec limit valuesPerFrameMax ${limits.valuesPerFrameMax} is below ${floor}, what a full append needs with entriesPerFrameMax ${limits.entriesPerFrameMax} and confMembersMax ${limits.confMembersMax}`,
    );
  }
  return Object.freeze(limits);
}
