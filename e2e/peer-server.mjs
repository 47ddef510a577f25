// The PeerJS signaling server of the end-to-end WebRTC tests, on 127.0.0.1 only. Started and
// stopped by playwright.config.ts (webServer); the port is e2e/config.ts's peerServerPort.
import { PeerServer } from 'peer';

const port = Number(process.env.PEERQUORUM_PEER_PORT ?? 4732);
const path = '/peerjs';

const server = PeerServer({ host: '127.0.0.1', port, path, allow_discovery: false }, () => {
  console.log(`peer-server: listening on http://127.0.0.1:${port}${path}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close?.();
    process.exit(0);
  });
}
