/**
 * The peer of the browser benchmark: the `broadcast-channel` package's `createLeaderElection`,
 * with its default options, in one tab. `window.bcElection.start(name)` joins the election of
 * the channel `name`; `leader()` resolves once this tab leads.
 */
import { BroadcastChannel, createLeaderElection, type LeaderElector } from 'broadcast-channel';

interface BcElection {
  start(name: string): void;
  isLeader(): boolean;
  leader(): Promise<true>;
}

declare global {
  interface Window {
    bcElection?: BcElection;
  }
}

let elector: LeaderElector | null = null;
let led: Promise<true> | null = null;

window.bcElection = {
  start(name) {
    if (elector !== null) throw new Error('already started');
    const channel = new BroadcastChannel(name);
    elector = createLeaderElection(channel);
    led = elector.awaitLeadership().then(() => true as const);
  },
  isLeader: () => elector?.isLeader ?? false,
  leader: () => {
    if (led === null) throw new Error('not started');
    return led;
  },
};
