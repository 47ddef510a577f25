/**
 * Where the end-to-end servers listen, shared by `playwright.config.ts`, the servers and the
 * tests. Everything listens on 127.0.0.1 only. The ports are fixed; set PEERQUORUM_E2E_PORT or
 * PEERQUORUM_PEER_PORT to move them (two runs on one machine at once).
 */
export const e2eHost = '127.0.0.1';

/** The static server (`vite preview` of a build of e2e/pages) with the harness page. */
export const webPort = Number(process.env.PEERQUORUM_E2E_PORT ?? 4731);
export const baseUrl = `http://${e2eHost}:${webPort}`;

/** The PeerJS signaling server (e2e/peer-server.mjs) for the WebRTC tests. */
export const peerServerPort = Number(process.env.PEERQUORUM_PEER_PORT ?? 4732);
export const peerServerPath = '/peerjs';

/** `signaling` for `createNode` / the fixture's `cluster({ transport: 'webrtc' })`. */
export const signaling = { host: e2eHost, port: peerServerPort, path: peerServerPath, secure: false, key: 'peerjs' } as const;

/**
 * The demo (demo/, `npm start`), built and served by `vite preview` for e2e/demo.spec.ts, with
 * its own PeerServer (started by the demo's Vite plugin). Set PEERQUORUM_DEMO_E2E_PORT or
 * PEERQUORUM_DEMO_E2E_PEER_PORT to move them; they are handed to the demo's config as
 * PEERQUORUM_DEMO_PORT and PEERQUORUM_DEMO_PEER_PORT.
 */
export const demoPort = Number(process.env.PEERQUORUM_DEMO_E2E_PORT ?? 4733);
export const demoPeerPort = Number(process.env.PEERQUORUM_DEMO_E2E_PEER_PORT ?? 4734);
export const demoBaseUrl = `http://${e2eHost}:${demoPort}`;
