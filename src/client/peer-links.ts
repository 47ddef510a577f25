/**
 * The page side of a `webrtc` node: `WebRtcLinks` (webrtc-links.ts) runs PeerJS signaling and
 * ICE here on the main thread, and every negotiated data channel it creates is transferred, in
 * the same task and before any use, to the node's worker (`attachChannel`, DESIGN.md §3), where
 * the DataChannelTransport owns it. Loaded only by `webrtc` nodes (it pulls in PeerJS).
 */
import type { LinkContext, Links } from './links.ts';
import { WebRtcLinks } from './webrtc-links.ts';

export async function startPeerLinks(context: LinkContext): Promise<Links> {
  const s = context.signaling ?? {};
  const links = new WebRtcLinks({
    cluster: context.cluster,
    self: context.self,
    peers: context.peers,
    signaling: {
      host: s.host ?? location.hostname,
      port: s.port ?? (location.port === '' ? (location.protocol === 'https:' ? 443 : 80) : Number(location.port)),
      path: s.path ?? '/',
      secure: s.secure ?? location.protocol === 'https:',
      ...(s.key === undefined ? {} : { key: s.key }),
    },
    ...(context.iceServers === undefined ? {} : { iceServers: context.iceServers }),
    // comlink posts the transfer synchronously, inside this callback, as WebRtcLinks requires.
    onChannel: (peer, channel) => void context.attachChannel(peer, channel).catch(() => undefined),
  });
  return { close: () => links.close(), setPeers: (peers) => links.setPeers(peers) };
}
