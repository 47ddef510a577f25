/**
 * One config for the library build (`npm run build`) and for Vitest (`npm test`).
 * The simulator seeds run inside Vitest too; they are CPU-bound, so the pool is sized for the
 * 2-core machines CI runs on.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  build: {
    target: 'es2022',
    sourcemap: true,
    lib: {
      entry: { peerquorum: 'src/index.ts', sim: 'src/sim/index.ts', playwright: 'src/playwright/index.ts' },
      formats: ['es'],
    },
    rollupOptions: {
      external: ['peerjs', 'msgpackr', 'idb-keyval', 'comlink', '@playwright/test', /^node:/],
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
