/**
 * Transports are made by factories (libp2p's way: `memory(init)(components)`), so that the host
 * never needs to know them all: a factory is a function from what the node is (its cluster, its
 * id, the peers it starts with, options of the user's own) to a `Transport`. The host picks a
 * built-in one by name (`TransportSpec` kind `broadcast` or `webrtc`), imports one from a module
 * (kind `module`: the module's `createTransport` IS a factory), or takes one from Node code
 * (`NodeHostParts.transportFactory`):
 *
 * ```ts
 * const myFactory: TransportFactory = ({ self }) => new MyTransport(self);
 * await NodeHost.start(options, { transportFactory: myFactory });
 * ```
 *
 * A factory may also be a `TransportListener`: the server side of a transport whose links are
 * dialled (a WebSocket server on an edge node; nothing implements it for real yet). Frames of
 * the links it accepts arrive on the `Transport` the same factory made for the same context,
 * like any other; `listen` only says where peers can reach this node.
 *
 * Built in here: `memoryTransport(hub)` (tests, Node; also a trivial listener),
 * `broadcastChannelTransport()` (tabs of one origin) and `dataChannelTransport()` (WebRTC data
 * channels handed over by the page; its module is loaded only when a node uses it). For Node
 * nodes, beside them: `webSocketTransportFactory` (websocket-factory.ts) and
 * `nodeWebRtcTransport` (node-webrtc-transport.ts: WebRTC through the browsers' PeerServer, with
 * werift), the latter also as a transport module for a spec (node-webrtc-module.ts). They are
 * not imported here, so that a browser bundle never pulls `ws` or werift in.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { BroadcastChannelTransport, type BroadcastChannelTransportOptions } from './broadcast-channel-transport.ts';
import type { DataChannelTransportOptions } from './data-channel-transport.ts';
import type { MemoryHub, MemoryTransportOptions } from './memory-transport.ts';
import type { Transport } from './transport.ts';

/** What a factory is told about the node it makes a transport for. */
export interface TransportContext {
  readonly cluster: string;
  readonly self: NodeId;
  /** The peers the node starts with: its bootstrap voters, or the members it asks to join. */
  readonly peers: readonly NodeId[];
  /** The user's own options (a `module` transport's `options`), passed through untouched. */
  readonly options?: unknown;
}

/** Makes the node's transport. May be async (a module to load, a socket to open). */
export type TransportFactory = (context: TransportContext) => Transport | Promise<Transport>;

/** Where a listening node can be reached, until `close`. */
export interface TransportListening {
  /** The address peers dial (its form is the transport's: `ws://host:port/path`, `memory:...`). */
  readonly address: string;
  /** Stop accepting new links; links already made live on until their transport closes. */
  close(): Promise<void>;
}

/**
 * The optional server side of a factory: a node that peers dial (an edge node's WebSocket
 * server) also listens. The host calls `listen` with the same context as the factory, after
 * the factory made the transport; it rejects when it cannot listen (a port in use).
 */
export interface TransportListener {
  listen(context: TransportContext): Promise<TransportListening>;
}

/** Whether a factory also has a server side. */
export function isTransportListener(factory: unknown): factory is TransportListener {
  return (typeof factory === 'function' || (typeof factory === 'object' && factory !== null)) && typeof (factory as Partial<TransportListener>).listen === 'function';
}

/**
 * Whether `value` has the shape of a `Transport` (its methods and stats): what a factory of
 * someone else's returns is checked before a node relies on it.
 */
export function isTransport(value: unknown): value is Transport {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<Record<keyof Transport, unknown>>;
  const methods = [t.send, t.onFrame, t.onLinkState, t.links, t.close];
  return typeof t.self === 'string' && methods.every((m) => typeof m === 'function') && typeof t.stats === 'object' && t.stats !== null;
}

/**
 * Transports over an in-process hub: each node made by this factory is attached to `hub`.
 * Listening is trivial (every node on the hub is reachable by id): the address names the node.
 */
export function memoryTransport(hub: MemoryHub, options: MemoryTransportOptions = {}): TransportFactory & TransportListener {
  const factory: TransportFactory = (context) => hub.connect(context.self, options);
  const listener: TransportListener = {
    async listen(context) {
      return { address: `memory:${encodeURIComponent(context.cluster)}/${encodeURIComponent(context.self)}`, close: async () => undefined };
    },
  };
  return Object.assign(factory, listener);
}

/** BroadcastChannel between tabs and workers of one origin (the context's cluster names the channels). */
export function broadcastChannelTransport(options: Omit<BroadcastChannelTransportOptions, 'cluster' | 'self'> = {}): TransportFactory {
  return (context) => new BroadcastChannelTransport({ ...options, cluster: context.cluster, self: context.self });
}

/**
 * WebRTC data channels that the page creates and hands over (`addChannel`). The module is
 * imported on the first call, so a node on another transport never loads it.
 */
export function dataChannelTransport(options: Omit<DataChannelTransportOptions, 'self'> = {}): TransportFactory {
  return async (context) => {
    const { DataChannelTransport } = await import('./data-channel-transport.ts');
    return new DataChannelTransport({ ...options, self: context.self });
  };
}
