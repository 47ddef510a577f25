/**
 * Playwright end-to-end tests in real Chromium (DESIGN.md section 8): several browser contexts
 * as a cluster over WebRTC with a local PeerServer, several tabs over BroadcastChannel, reloads,
 * tab closes and partitions. `npm test` runs them after the Node tests.
 *
 * Three servers, all on 127.0.0.1 only (ports in e2e/config.ts), started before the tests and
 * stopped when the run ends:
 *   - a build of e2e/pages served by `vite preview` (the harness page of the fixture);
 *   - a PeerJS signaling server (e2e/peer-server.mjs) for the WebRTC tests;
 *   - a build of the demo (demo/) served by `vite preview`, with the demo's own PeerServer
 *     (its Vite plugin starts it), for e2e/demo.spec.ts.
 *
 * The browser is the system Chromium (`apt-get install chromium`, or CHROMIUM_PATH): Playwright
 * never downloads one (.ci/run exports PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
 */
import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';
import { baseUrl, demoBaseUrl, demoPeerPort, demoPort, e2eHost, peerServerPath, peerServerPort } from './e2e/config.ts';

const isCi = Boolean(process.env.CI) && process.env.CI !== 'false';
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (!existsSync(chromiumPath)) {
  console.error(`playwright: no Chromium at ${chromiumPath}: install one (apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary.`);
  process.exit(1);
}

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  fullyParallel: false,
  forbidOnly: isCi,
  // A flaky consensus test is a bug to find, not a failure to retry away.
  retries: 0,
  // One worker on the 2-core CI machine: a cluster test already runs several pages, and CPU
  // starvation would look like a partition. Locally, Playwright's default (half the cores).
  workers: isCi ? 1 : '50%',
  // Generous: the tests wait on conditions, never on time; these only stop a hang.
  timeout: 120_000,
  expect: { timeout: 30_000 },
  globalTimeout: 15 * 60_000,
  reporter: isCi ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL: baseUrl,
    trace: 'retain-on-failure',
  },
  webServer: [
    {
      command: 'node node_modules/vite/bin/vite.js build --config e2e/vite.config.ts && node node_modules/vite/bin/vite.js preview --config e2e/vite.config.ts',
      url: `${baseUrl}/harness.html`,
      reuseExistingServer: false,
      timeout: 180_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: 'node node_modules/vite/bin/vite.js build --config demo/vite.config.ts && node node_modules/vite/bin/vite.js preview --config demo/vite.config.ts',
      url: `${demoBaseUrl}/index.html`,
      env: { PEERQUORUM_DEMO_PORT: String(demoPort), PEERQUORUM_DEMO_PEER_PORT: String(demoPeerPort) },
      reuseExistingServer: false,
      timeout: 180_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: 'node e2e/peer-server.mjs',
      url: `http://${e2eHost}:${peerServerPort}${peerServerPath}`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: chromiumPath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],
});
