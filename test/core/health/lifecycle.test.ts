/**
 * What this proves about lifecycle derivation (src/core/health/lifecycle.ts), by tables: each
 * Raft state is reached from the inputs its definition names and the first matching state wins
 * (a failed node is down even while leaving; a removed member is leaving, a node never in the
 * configuration is joining; a learner is joining even when caught up; a voter syncs while it
 * installs a snapshot, before any leader was heard in this life, or when more than
 * syncLagEntriesMax behind), gossip member states map onto the five states (suspect stays
 * active), and a BFT replica syncs during a view change or a state transfer.
 */
import { describe, expect, it } from 'vitest';
import { bftLifecycle, gossipLifecycle, memberLifecycle, raftLifecycle, type RaftLifecycleInput } from '../../../src/core/health/lifecycle.ts';

const caughtUpVoter: RaftLifecycleInput = {
  stopped: false,
  failure: null,
  leaving: null,
  membership: 'voter',
  wasMember: true,
  leaderKnownThisLife: true,
  installingSnapshot: false,
  behindLeaderEntries: 0,
  syncLagEntriesMax: 100,
};

describe('raft', () => {
  it.each<[string, Partial<RaftLifecycleInput>, string, string]>([
    ['a caught-up voter', {}, 'active', 'caught-up'],
    ['a voter exactly at the sync threshold', { behindLeaderEntries: 100 }, 'active', 'caught-up'],
    ['a voter past the sync threshold', { behindLeaderEntries: 101 }, 'syncing', 'behind-leader'],
    ['a voter installing a snapshot', { installingSnapshot: true }, 'syncing', 'installing-snapshot'],
    ['a voter that heard no leader yet', { leaderKnownThisLife: false }, 'syncing', 'no-leader-yet'],
    ['a learner, caught up', { membership: 'learner' }, 'joining', 'learner'],
    ['a node not in the configuration yet', { membership: 'none', wasMember: false }, 'joining', 'not-in-config'],
    ['a member removed from the configuration', { membership: 'none', wasMember: true }, 'leaving', 'removed'],
    ['a leader handing over', { leaving: 'handing-over' }, 'leaving', 'handing-over'],
    ['a node stopping', { leaving: 'stopping', installingSnapshot: true }, 'leaving', 'stopping'],
    ['a stopped node', { stopped: true, leaving: 'stopping' }, 'down', 'stopped'],
    ['a failed node', { failure: 'STORAGE: disk gone', stopped: true }, 'down', 'failed'],
  ])('%s', (_what, change, state, reason) => {
    expect(raftLifecycle({ ...caughtUpVoter, ...change })).toEqual({ state, reason });
  });
});

describe('gossip', () => {
  it.each([
    ['joining', 'joining'],
    ['alive', 'active'],
    ['suspect', 'active'],
    ['dead', 'down'],
    ['left', 'down'],
  ] as const)('a member %s is %s', (member, state) => {
    expect(memberLifecycle(member).state).toBe(state);
  });

  it('a node leaving or left is leaving; stopped is down', () => {
    const base = { stopped: false, failure: null, leaving: false, self: 'alive' } as const;
    expect(gossipLifecycle(base).state).toBe('active');
    expect(gossipLifecycle({ ...base, leaving: true }).state).toBe('leaving');
    expect(gossipLifecycle({ ...base, self: 'left' }).state).toBe('leaving');
    expect(gossipLifecycle({ ...base, self: 'joining' }).state).toBe('joining');
    expect(gossipLifecycle({ ...base, stopped: true }).state).toBe('down');
  });
});

describe('bft', () => {
  it('syncs in a view change or a state transfer, else is active', () => {
    const base = { stopped: false, failure: null, leaving: false, viewChanging: false, fetchingState: false };
    expect(bftLifecycle(base)).toEqual({ state: 'active', reason: 'caught-up' });
    expect(bftLifecycle({ ...base, viewChanging: true })).toEqual({ state: 'syncing', reason: 'view-change' });
    expect(bftLifecycle({ ...base, fetchingState: true })).toEqual({ state: 'syncing', reason: 'state-transfer' });
    expect(bftLifecycle({ ...base, failure: 'x' })).toEqual({ state: 'down', reason: 'failed' });
  });
});
