/**
 * The harness page of the end-to-end tests: `window.peerquorumHarness` (src/client/harness.ts),
 * driven by the Playwright fixture (src/playwright).
 */
import { installHarness } from '../../src/client/index.ts';

installHarness();
