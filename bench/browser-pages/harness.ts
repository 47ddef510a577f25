/** The browser benchmark's node page: `window.peerquorumHarness` (src/client/harness.ts). */
import { installHarness } from '../../src/client/index.ts';

installHarness();
