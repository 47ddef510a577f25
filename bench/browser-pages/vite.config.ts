/**
 * The pages of the browser benchmark (bench/browser-pages/*.html), built and served by
 * `vite preview` on 127.0.0.1; bench/browser.ts builds and starts it, and stops it at the end.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const pagesDir = fileURLToPath(new URL('./', import.meta.url));
const pages = Object.fromEntries(
  readdirSync(pagesDir)
    .filter((f) => f.endsWith('.html'))
    .map((f) => [f.slice(0, -'.html'.length), `${pagesDir}${f}`]),
);
const port = Number(process.env.PEERQUORUM_BENCH_PORT ?? 4741);

export default defineConfig({
  root: pagesDir,
  build: {
    outDir: fileURLToPath(new URL('../../node_modules/.cache/peerquorum-bench-browser/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    rollupOptions: { input: pages },
  },
  worker: { format: 'es' },
  preview: { host: '127.0.0.1', port, strictPort: true },
  logLevel: 'warn',
});
