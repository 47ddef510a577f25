/**
 * The bounds the codec puts on a frame (TIGER_STYLE: a limit on everything, units last). A peer
 * cannot make a node allocate, loop or store more than these allow, whatever it sends.
 *
 * The defaults sit comfortably above what the core sends with its own defaults
 * (`raftDefaults`: 1,024 entries and about 1 MiB per append, 64 KiB snapshot chunks, snapshots up
 * to 256 MiB), so that a cluster with default settings never drops its own frames. A driver that
 * raises the core's batching limits must raise these to match (`resolveCodecLimits`), or its
 * peers drop the larger frames.
 */
import { ConfigError } from '../core/raft/errors.ts';

export interface CodecLimits {
  /** Largest frame accepted or produced, in bytes, envelope included. */
  readonly frameBytesMax: number;
  /** Longest cluster name, in Unicode code points. */
  readonly clusterCharsMax: number;
  /** Longest node id (envelope, body, `transferee`, configuration members), in code points. */
  readonly idCharsMax: number;
  /** Most entries in one `append`, and most commands in one `propose`. */
  readonly entriesPerFrameMax: number;
  /** Most members (voters plus learners) in one configuration. */
  readonly confMembersMax: number;
  /** Largest snapshot chunk (`snapshot.data`), in bytes. */
  readonly snapshotChunkBytesMax: number;
  /**
   * Largest snapshot, in bytes: a chunk must end at or below it, and an acknowledgement may not
   * claim more. (The core enforces the node's own `maxSnapshotBytes` when it installs one.)
   */
  readonly snapshotBytesMax: number;
}

const mebibyte = 1024 * 1024;

export const codecLimitsDefault: CodecLimits = Object.freeze({
  frameBytesMax: 4 * mebibyte,
  clusterCharsMax: 128,
  idCharsMax: 128,
  entriesPerFrameMax: 4096,
  confMembersMax: 256,
  snapshotChunkBytesMax: 1 * mebibyte,
  snapshotBytesMax: 1024 * mebibyte,
});

/**
 * The codec's limits with `overrides` applied, checked once: every limit a positive safe integer
 * (a NaN limit would silently admit everything). Throws `ConfigError`: a bad limit is a
 * configuration mistake found at startup, not an input from the network.
 */
export function resolveCodecLimits(overrides: Partial<CodecLimits> = {}): CodecLimits {
  const limits: CodecLimits = { ...codecLimitsDefault, ...overrides };
  for (const name of Object.keys(codecLimitsDefault) as (keyof CodecLimits)[]) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ConfigError(`codec limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
