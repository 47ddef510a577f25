/**
 * The driver's frame codec for Raft: the wire codec (`src/io/codec.ts`) bound to one node of
 * one cluster, with its metrics. A frame whose envelope names another sender than the link it
 * came from is refused too: a peer must not speak for another.
 */
import type { RaftConfig } from '../core/raft/config.ts';
import { ConfigError } from '../core/raft/errors.ts';
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { codecLimitsDefault, createCodecMetrics, decodeFrame, encodeFrame, raftEnvelope, type CodecLimits, type CodecMetrics } from '../io/codec.ts';
import type { FrameCodec } from './driver.ts';
import type { TaggedError } from './errors.ts';

export interface RaftFrameCodec extends FrameCodec {
  readonly metrics: CodecMetrics;
}

export function createRaftFrameCodec(cluster: string, self: NodeId, limits?: CodecLimits): RaftFrameCodec {
  const metrics = createCodecMetrics();
  const options = limits === undefined ? {} : { limits };
  return {
    metrics,
    encode(message: Message): Uint8Array {
      return encodeFrame(raftEnvelope(cluster, message), options);
    },
    decode(from: NodeId, frame: Uint8Array): Result<Message, TaggedError> {
      const decoded = decodeFrame(frame, { cluster, self }, { ...options, metrics });
      if (!decoded.ok) return err({ code: 'CODEC', message: `${decoded.error.code}: ${decoded.error.message}` });
      if (decoded.value.from !== from) {
        metrics.framesDropped++;
        return err({ code: 'CODEC', message: `frame from ${from} claims to be from ${decoded.value.from}` });
      }
      return ok(decoded.value.body);
    },
  };
}

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
  if (raft.snapshotChunkBytes > limits.snapshotChunkBytesMax) misfits.push(`snapshotChunkBytes ${raft.snapshotChunkBytes} > snapshotChunkBytesMax ${limits.snapshotChunkBytesMax}`);
  if (raft.maxSnapshotBytes > limits.snapshotBytesMax) misfits.push(`maxSnapshotBytes ${raft.maxSnapshotBytes} > snapshotBytesMax ${limits.snapshotBytesMax}`);
  if (misfits.length > 0) throw new ConfigError(`the Raft settings do not fit the wire codec's limits: ${misfits.join('; ')}`);
}
