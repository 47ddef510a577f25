/**
 * The WebSocket transport (websocket-transport.ts) as the host takes transports: a factory
 * (factory.ts) that makes one for the node its context names, which is also a listener, so a
 * host that listens learns the `ws://` address peers dial:
 *
 * ```ts
 * const factory = webSocketTransportFactory({ listen: { host: '127.0.0.1', port: 7001 }, peers: { n2: 'ws://127.0.0.1:7002' } });
 * const transport = await factory({ cluster, self: 'n1', peers: ['n2'] });
 * const { address } = await factory.listen({ cluster, self: 'n1', peers: ['n2'] });
 * ```
 */
import type { NodeId } from '../../core/raft/types.ts';
import type { TransportFactory, TransportListener } from './factory.ts';
import { webSocketTransport, type WebSocketTransport, type WebSocketTransportOptions } from './websocket-transport.ts';

/**
 * The same as a `TransportFactory` (the node's context names `self`) and a `TransportListener`:
 * `listen` answers where the transport made for the same node listens (it started with
 * `options.listen`), and its `close` stops accepting. Rejects `listen` for a node it made no
 * listening transport for.
 */
export function webSocketTransportFactory(options: Omit<WebSocketTransportOptions, 'self'>): TransportFactory & TransportListener {
  const made = new Map<NodeId, WebSocketTransport>();
  const factory: TransportFactory = async (context) => {
    const transport = await webSocketTransport({ ...options, self: context.self });
    made.set(context.self, transport);
    return transport;
  };
  const listener: TransportListener = {
    async listen(context) {
      const transport = made.get(context.self);
      const address = transport?.address;
      if (transport === undefined || address === undefined) throw new Error(`no listening WebSocket transport was made for ${context.self}`);
      return { address, close: () => transport.stopListening() };
    },
  };
  return Object.assign(factory, listener);
}
