/**
 * Runs the transport compliance suite (transport-compliance.ts) against the WebSocket
 * transport, with and without its bound on links: real `ws` servers and sockets on 127.0.0.1,
 * each node listening on a free port. A node that joins a network is told the address of every
 * node already in it, and they of its own (`addPeer`), so both ends dial and the transport's
 * one-connection-per-pair rule (the lower id's dial wins) is exercised on every link.
 */
import { webSocketTransport, type WebSocketTransport } from '../../src/io/transport/websocket-transport.ts';
import { describeTransportCompliance } from './transport-compliance.ts';

const frameBytesMax = 64 * 1024;
const networks = new Map<string, WebSocketTransport[]>();

async function wsNode(network: string, id: string, linksMax?: number): Promise<WebSocketTransport> {
  const t = await webSocketTransport({
    self: id,
    listen: { host: '127.0.0.1', port: 0 },
    frameBytesMax,
    backoff: { baseMs: 20, maxMs: 200 },
    ...(linksMax === undefined ? {} : { linksMax }),
  });
  const members = networks.get(network) ?? [];
  networks.set(network, members);
  for (const other of members) {
    t.addPeer(other.self, other.address as string);
    other.addPeer(id, t.address as string);
  }
  members.push(t);
  return t;
}

describeTransportCompliance('WebSocket (ws, 127.0.0.1)', {
  frameBytesMax,
  connect: (network, id) => wsNode(network, id),
  connectBounded: (network, id, linksMax) => wsNode(network, id, linksMax),
});
