/**
 * A startup check: the Raft settings must produce messages that fit the wire codec's limits
 * (src/io/codec-limits.ts), or a larger batch would fail to encode on the sender, or be dropped
 * by every receiver, and the cluster would stall without a clear cause.
 */
import type { RaftConfig } from '../core/raft/config.ts';
import { ConfigError } from '../core/raft/errors.ts';
import { codecLimitsDefault, type CodecLimits } from '../io/codec-limits.ts';

/** Room in a frame for the envelope and an append's fields besides the entries' data. */
const appendOverheadBytes = 64 * 1024;

/**
 * Check at startup that every message the core may send with `raft` fits the codec's frame
 * limits. Otherwise a larger batch would fail to encode on the sender, or be dropped by every
 * receiver, and the cluster would stall without a clear cause. Throws `ConfigError` naming both
 * settings. (An append may go one entry past `maxBytesPerAppend`: a single entry is never
 * split.)
 */
export function checkRaftFitsFrames(
  raft: Pick<Required<RaftConfig>, 'maxEntriesPerAppend' | 'maxBytesPerAppend' | 'maxCommandBytes' | 'snapshotChunkBytes' | 'maxSnapshotBytes'>,
  limits: CodecLimits = codecLimitsDefault,
): void {
  const misfits: string[] = [];
  if (raft.maxEntriesPerAppend > limits.entriesPerFrameMax) misfits.push(`maxEntriesPerAppend ${raft.maxEntriesPerAppend} > entriesPerFrameMax ${limits.entriesPerFrameMax}`);
  const appendBytes = raft.maxBytesPerAppend + raft.maxCommandBytes + appendOverheadBytes;
  if (appendBytes > limits.frameBytesMax) misfits.push(`maxBytesPerAppend + maxCommandBytes + ${appendOverheadBytes} = ${appendBytes} > frameBytesMax ${limits.frameBytesMax}`);
  if (raft.maxCommandBytes > limits.entryDataBytesMax) misfits.push(`maxCommandBytes ${raft.maxCommandBytes} > entryDataBytesMax ${limits.entryDataBytesMax}`);
  if (raft.snapshotChunkBytes > limits.snapshotChunkBytesMax) misfits.push(`snapshotChunkBytes ${raft.snapshotChunkBytes} > snapshotChunkBytesMax ${limits.snapshotChunkBytesMax}`);
  if (raft.maxSnapshotBytes > limits.snapshotBytesMax) misfits.push(`maxSnapshotBytes ${raft.maxSnapshotBytes} > snapshotBytesMax ${limits.snapshotBytesMax}`);
  if (misfits.length > 0) throw new ConfigError(`the Raft settings do not fit the wire codec's limits: ${misfits.join('; ')}`);
}
