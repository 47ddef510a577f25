/**
 * The Node WebRTC transport (node-webrtc-transport.ts) as a transport MODULE: what a node names
 * with `transport: { kind: 'module', url, options }` (node-parts.ts) when it is started by a spec
 * that crossed a thread (a `worker_threads` node, the CLI) and so cannot carry a factory
 * function. `options` is `{ signaling: { host, port, path, secure, key? }, iceServers? }`.
 *
 * The options crossed a thread or came from a command line: their shape and bounds are checked
 * here (node-webrtc-options.ts), and a bad one throws (the host reports it as CONFIG) before any
 * socket is opened.
 */
import type { TransportFactory } from './factory.ts';
import { NodeWebRtcTransport } from './node-webrtc-transport.ts';
import { parseNodeWebRtcModuleOptions } from './node-webrtc-options.ts';

export { parseNodeWebRtcModuleOptions, type NodeWebRtcModuleOptions } from './node-webrtc-options.ts';

export const createTransport: TransportFactory = (context) => {
  const options = parseNodeWebRtcModuleOptions(context.options);
  return new NodeWebRtcTransport({ ...options, self: context.self, cluster: context.cluster, peers: context.peers });
};
