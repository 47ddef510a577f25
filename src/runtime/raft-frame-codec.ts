/**
 * The driver's frame codec for Raft: the wire codec (`src/io/codec.ts`) bound to one node of
 * one cluster, with its metrics. A frame whose envelope names another sender than the link it
 * came from is refused too: a peer must not speak for another.
 */
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { createCodecMetrics, decodeFrame, encodeFrame, raftEnvelope, type CodecLimits, type CodecMetrics } from '../io/codec.ts';
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
