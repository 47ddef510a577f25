/**
 * A real PeerServer (the `peer` package, as e2e/peer-server.mjs runs it) on a free port of
 * 127.0.0.1, for the tests of the Node WebRTC transport: start it before the tests, close it
 * after them. Its port is asked of the system (listen on 0, read the port, let it go), so suites
 * that run at once do not collide.
 */
import { createServer } from 'node:net';
import { PeerServer } from 'peer';

export interface LoopbackPeerServer {
  readonly port: number;
  close(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A PeerServer at `ws://127.0.0.1:<port>/peerjs`, without discovery; resolves once it listens. */
export async function startPeerServer(): Promise<LoopbackPeerServer> {
  const port = await freePort();
  const server = await new Promise<ReturnType<typeof PeerServer>>((resolve) => {
    const s = PeerServer({ host: '127.0.0.1', port, path: '/peerjs', allow_discovery: false }, () => resolve(s));
  });
  return {
    port,
    close: () => {
      // The PeerServer's express app keeps its http.Server on `_server` only in some versions; close what it has.
      const s = server as unknown as { _server?: { close(): void }; close?: () => void };
      s._server?.close();
      s.close?.();
    },
  };
}
