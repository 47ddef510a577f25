/**
 * Main-thread side of the channel handoff (src/io/transport/channel-handoff.ts): move a fresh
 * data channel from `WebRtcLinks.onChannel` to the node's worker.
 *
 * ```ts
 * const links = new WebRtcLinks({ ..., onChannel: (peer, channel) => {
 *   if (!transferChannel(worker, peer, channel)) fallbackTransport.addChannel(peer, channel);
 * } });
 * ```
 *
 * Returns false when the browser cannot transfer data channels (a DataCloneError): the channel is
 * still usable here, and the caller falls back to keeping a DataChannelTransport on the main
 * thread and relaying its frames to the worker (relay-transport.ts).
 */
import type { NodeId } from '../core/raft/types.ts';
import { channelHandoffKind, type ChannelHandoff } from '../io/transport/channel-handoff.ts';

export interface HandoffTarget {
  postMessage(message: unknown, transfer: Transferable[]): void;
}

export function transferChannel(target: HandoffTarget, peer: NodeId, channel: RTCDataChannel): boolean {
  const message: ChannelHandoff = { kind: channelHandoffKind, peer, channel };
  try {
    target.postMessage(message, [channel]);
    return true;
  } catch {
    return false;
  }
}
