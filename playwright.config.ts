/**
 * Playwright end-to-end tests in real Chromium (DESIGN.md section 8): several browser contexts
 * as a cluster over WebRTC with a local PeerServer, several tabs over BroadcastChannel, reloads,
 * tab closes and partitions. They arrive with the browser runtime; `npm test` does not run them
 * yet.
 *
 * The browser is the system Chromium (`apt-get install chromium`, or CHROMIUM_PATH): Playwright
 * never downloads one (.ci/run exports PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
 */
import { defineConfig, devices } from '@playwright/test';

const isCi = Boolean(process.env.CI) && process.env.CI !== 'false';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  fullyParallel: false,
  forbidOnly: isCi,
  // A flaky consensus test is a bug to find, not a failure to retry away.
  retries: 0,
  // One worker on the 2-core CI machine: a cluster test already runs several contexts, and CPU
  // starvation would look like a partition. Locally, Playwright's default (half the cores).
  workers: isCi ? 1 : '50%',
  reporter: isCi ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
