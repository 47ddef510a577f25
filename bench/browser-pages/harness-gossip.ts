/**
 * The browser benchmark's node page with both protocols: the same `window.peerquorumHarness`
 * as harness.ts (src/client/harness.ts), but every node it starts runs
 * `protocols: ['raft', 'gossip']`, so phi suspicion of the Raft leader calls forget-leader
 * (src/runtime/gossip-leader-watch.ts). The harness hands its start options to `createNode` as
 * they are, so adding `protocols` here is all it takes; the Playwright fixture's `Cluster` opens
 * this page through its `url` option (bench/browser.ts, measure `crash-phi`). A query
 * `?leaderPhiThreshold=X` sets the node's `leaderPhiThreshold` (the bench's
 * `--leader-phi-threshold`); without it the default holds.
 */
import { installHarness, type CreateNodeOptions, type HarnessStartOptions } from '../../src/client/index.ts';

type GossipStartOptions = HarnessStartOptions & Pick<CreateNodeOptions<'kv'>, 'protocols' | 'leaderPhiThreshold'>;

const harness = installHarness();
const start = harness.start;
const threshold = new URLSearchParams(location.search).get('leaderPhiThreshold');
harness.start = (options) => {
  const withGossip: GossipStartOptions = { ...options, protocols: ['raft', 'gossip'], ...(threshold === null ? {} : { leaderPhiThreshold: Number(threshold) }) };
  return start(withGossip);
};
