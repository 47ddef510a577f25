/**
 * The demo's Vite config (`npm start` runs the dev server with it; the demo's end-to-end test
 * builds it and serves the build with `vite preview`). Everything listens on 127.0.0.1.
 *
 * - `demo/index.html` is the opener (choose a cluster, open one tab per node, watch them all);
 *   `demo/node.html` is one node's tab (its state, the board, the chaos controls);
 *   `demo/services.html` a tab of the coordination services (services-view.ts).
 * - A PeerJS signaling server for the WebRTC transport starts alongside, in the same process,
 *   on its own port (PeerServer's WebSocket server answers 400 to every upgrade it does not own,
 *   so sharing Vite's port would break Vite's own WebSocket); it stops when the Vite server
 *   closes. The pages learn where it is from `/peerquorum-demo.json`.
 * - The board's state machine (demo/board-machine.ts) is imported by the node's worker from a
 *   URL: served as TypeScript by the dev server, built to `/board-machine.js` (a build entry
 *   whose exports are kept) for preview.
 *
 * `npm start` ends its start-up output with the page to open (`peerquorum demo: open ...`).
 *
 * Ports: PEERQUORUM_DEMO_PORT (default 5173) and PEERQUORUM_DEMO_PEER_PORT (default 5174).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PeerServer } from 'peer';
import { defineConfig, type Connect, type Plugin, type ViteDevServer } from 'vite';

export const demoHost = '127.0.0.1';
export const demoPort = Number(process.env.PEERQUORUM_DEMO_PORT ?? 5173);
export const demoPeerPort = Number(process.env.PEERQUORUM_DEMO_PEER_PORT ?? 5174);
export const demoPeerPath = '/peerjs';
/** What the pages fetch to learn where the signaling server is. */
export const demoConfigPath = '/peerquorum-demo.json';

const demoDir = fileURLToPath(new URL('./', import.meta.url));
const repoDir = fileURLToPath(new URL('../', import.meta.url));

/**
 * The demo cluster's secret, new for each run of the server: the pages it serves authenticate
 * their links with it (a page from anywhere else cannot join, vote or write). A real app would
 * hand its pages a secret of its own choosing, kept out of reach of strangers.
 */
const demoSecret = randomBytes(18).toString('base64url');

/**
 * Answers `demoConfigPath`: where the signaling server is, the board machine module (the
 * TypeScript source under the dev server, the built chunk under preview), and the secret.
 */
function configMiddleware(boardMachine: string): Connect.NextHandleFunction {
  return (req, res, next) => {
    if (req.url?.split('?')[0] !== demoConfigPath) return next();
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify({ signaling: { port: demoPeerPort, path: demoPeerPath, key: 'peerjs' }, boardMachine, secret: demoSecret }));
  };
}

/**
 * Makes the page to open the last line of `npm start`'s start-up output, so that the
 * signaling server's address cannot be taken for it: after Vite's banner and URLs, after its
 * shortcut hint (Vite's CLI calls `bindCLIShortcuts` last, TTY or not) and after the
 * PeerServer's line (`peerReady` settles once that is printed).
 */
function printPageLast(server: ViteDevServer, peerReady: Promise<unknown>): void {
  const bindCLIShortcuts = server.bindCLIShortcuts.bind(server);
  server.bindCLIShortcuts = (options) => {
    bindCLIShortcuts(options);
    void peerReady.then(() => {
      const page = server.resolvedUrls?.local[0] ?? `http://${demoHost}:${demoPort}/`;
      console.log(`\n  peerquorum demo: open ${page}`);
    });
  };
}

/** Starts the PeerServer when a dev or preview server starts, and closes it with that server. */
function peerServerPlugin(): Plugin {
  let peer: Promise<Server> | null = null;
  const start = (httpServer: Server | null): Promise<Server> => {
    peer ??= new Promise<Server>((resolve) => {
      PeerServer({ host: demoHost, port: demoPeerPort, path: demoPeerPath, allow_discovery: false }, (server) => {
        console.log(`  peerquorum demo: PeerServer (WebRTC signaling) on http://${demoHost}:${demoPeerPort}${demoPeerPath}`);
        resolve(server as Server);
      });
    });
    httpServer?.on('close', () => void stop());
    return peer;
  };
  const stop = async (): Promise<void> => {
    const p = peer;
    peer = null;
    const server = await p;
    server?.closeAllConnections();
    server?.close();
  };
  return {
    name: 'peerquorum-demo-peer-server',
    configureServer(server) {
      server.middlewares.use(configMiddleware('/board-machine.ts'));
      printPageLast(server, start(server.httpServer as Server | null));
    },
    configurePreviewServer(server) {
      server.middlewares.use(configMiddleware('/board-machine.js'));
      start(server.httpServer as Server);
    },
  };
}

export default defineConfig({
  root: demoDir,
  plugins: [peerServerPlugin()],
  build: {
    // Keep the build out of the source tree (and out of git and eslint); one per port, so that
    // two runs on one machine do not empty each other's.
    outDir: fileURLToPath(new URL(`../node_modules/.cache/peerquorum-demo-${demoPort}/`, import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rollupOptions: {
      input: { index: `${demoDir}index.html`, node: `${demoDir}node.html`, bft: `${demoDir}bft.html`, services: `${demoDir}services.html`, 'board-machine': `${demoDir}board-machine.ts` },
      // The worker imports board-machine.js by URL and calls its exports: keep them.
      preserveEntrySignatures: 'exports-only',
      output: { entryFileNames: (chunk) => (chunk.name === 'board-machine' ? '[name].js' : 'assets/[name]-[hash].js') },
    },
  },
  worker: { format: 'es' },
  // Bundled before the first page loads, so that the dev server never reloads a page after
  // discovering a dependency (the worker's among them).
  optimizeDeps: { include: ['comlink', 'idb-keyval', 'msgpackr', 'peerjs'], entries: ['index.html', 'node.html', 'bft.html', 'services.html'] },
  server: { host: demoHost, port: demoPort, strictPort: true, fs: { allow: [repoDir] } },
  preview: { host: demoHost, port: demoPort, strictPort: true },
  logLevel: 'info',
});
