/**
 * Stable PeerJS ids for peerquorum nodes: the rule lives in src/io/transport/peerjs-id.ts, beside
 * the Node side of WebRTC (node-webrtc-links.ts), which must compute the very same ids as the
 * browsers' `WebRtcLinks` so that a Node node and browser tabs of one cluster find each other at
 * the PeerServer; the transport layer cannot import from the client layer above it.
 */
export { encodeIdPart, peerJsId } from '../io/transport/peerjs-id.ts';
