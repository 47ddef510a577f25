/**
 * The message that carries a WebRTC data channel from the main thread, where `WebRtcLinks` makes
 * it, to the node's worker, which owns it from then on (DESIGN.md section 3). The channel is in
 * the transfer list, so it moves rather than being copied; the main thread keeps nothing.
 *
 * Main thread (src/client/webrtc-handoff.ts): `transferChannel(worker, peer, channel)`.
 * Worker: `acceptChannelHandoff(transport, event.data)` in the worker's message handler; it
 * returns false for any other message, so it can sit in front of the host's own handling.
 */
import type { NodeId } from '../../core/raft/types.ts';
import type { DataChannelTransport } from './data-channel-transport.ts';

export const channelHandoffKind = 'peerquorum/data-channel';

export interface ChannelHandoff {
  readonly kind: typeof channelHandoffKind;
  readonly peer: NodeId;
  readonly channel: RTCDataChannel;
}

export function isChannelHandoff(data: unknown): data is ChannelHandoff {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as Partial<ChannelHandoff>;
  return (
    m.kind === channelHandoffKind &&
    typeof m.peer === 'string' &&
    m.peer.length > 0 &&
    typeof RTCDataChannel !== 'undefined' &&
    m.channel instanceof RTCDataChannel
  );
}

/** If `data` is a channel handoff, give the channel to `transport` and return true. */
export function acceptChannelHandoff(transport: DataChannelTransport, data: unknown): boolean {
  if (!isChannelHandoff(data)) return false;
  transport.addChannel(data.peer, data.channel);
  return true;
}
