/**
 * The pages of the end-to-end tests (e2e/pages/*.html), built and served by `vite preview` on
 * 127.0.0.1 (playwright.config.ts starts it). A build rather than the dev server: every page
 * and the node's worker are bundled before the first test, so no test waits for on-demand
 * transforms or sees the dev server reload a page after discovering a dependency.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { e2eHost, webPort } from './config.ts';

const pagesDir = fileURLToPath(new URL('./pages/', import.meta.url));
const repoDir = fileURLToPath(new URL('../', import.meta.url));
const pages = Object.fromEntries(
  readdirSync(pagesDir)
    .filter((f) => f.endsWith('.html'))
    .map((f) => [f.slice(0, -'.html'.length), `${pagesDir}${f}`]),
);

export default defineConfig({
  root: pagesDir,
  // Keep the build out of the source tree (and out of git and eslint); one folder per port, so
  // that two runs on one machine (PEERQUORUM_E2E_PORT) do not overwrite each other's build.
  build: {
    outDir: fileURLToPath(new URL(`../node_modules/.cache/peerquorum-e2e-${webPort}/`, import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    minify: false,
    rollupOptions: { input: pages },
  },
  worker: { format: 'es' },
  server: { host: e2eHost, port: webPort, strictPort: true, fs: { allow: [repoDir] } },
  preview: { host: e2eHost, port: webPort, strictPort: true },
  logLevel: 'warn',
});
