/**
 * One config for the library build (`npm run build`) and for Vitest (`npm test`).
 * The simulator seeds run inside Vitest too; they are CPU-bound, so the pool is sized for the
 * 2-core machines CI runs on.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Relative asset URLs: the client entry starts its worker with
  // `new Worker(new URL('./assets/worker-*.js', import.meta.url))`, which must resolve next to
  // dist/client.js wherever the package is installed, not at the site's root.
  base: './',
  build: {
    target: 'es2022',
    sourcemap: true,
    lib: {
      // node-worker: the worker_threads entry that dist/node.js starts from beside itself
      // (src/node/node-worker-spawn.ts), so it must be an entry of its own at the top of dist;
      // node-webrtc likewise: the transport module a `webrtc` Node node's worker loads by URL.
      entry: {
        peerquorum: 'src/index.ts',
        client: 'src/client/index.ts',
        sim: 'src/sim/index.ts',
        playwright: 'src/playwright/index.ts',
        node: 'src/node/index.ts',
        'node-worker': 'src/node/node-worker.ts',
        'node-webrtc': 'src/io/transport/node-webrtc-module.ts',
      },
      formats: ['es'],
    },
    rollupOptions: {
      external: ['peerjs', 'msgpackr', 'idb-keyval', 'comlink', '@playwright/test', 'ws', 'werift', /^node:/],
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
