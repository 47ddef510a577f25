/**
 * Membership changes, one server at a time (dissertation §4.1). Adding or removing a single
 * voter changes the majority so little that every majority of the old configuration overlaps
 * every majority of the new one; so a change may take effect as soon as it is in a node's log,
 * without joint consensus. New members join as learners and are promoted once caught up
 * (§4.2.1), so that adding a voter never stalls commits while it copies the log.
 */
import { raftDefaults } from './config.ts';
import type { ConfState, NodeId } from './types.ts';

export type ConfChange =
  | { readonly type: 'add-learner'; readonly node: NodeId }
  | { readonly type: 'promote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

export function makeConfState(voters: readonly NodeId[], learners: readonly NodeId[]): ConfState {
  return { voters: [...voters].sort(), learners: [...learners].sort() };
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

export function sameConfState(a: ConfState, b: ConfState): boolean {
  return sameList(a.voters, b.voters) && sameList(a.learners, b.learners);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The ceilings a configuration must stay under (`RaftConfig.votersMax`, `learnersMax`). */
export interface ConfLimits {
  readonly votersMax: number;
  readonly learnersMax: number;
}

/**
 * The configuration after `change`, or why the change is not allowed from `conf`. The engine
 * passes its configured `limits`; without them the defaults apply. Only growth is refused at a
 * ceiling: a configuration already above one (made by nodes with other settings) may shrink.
 */
export function applyConfChange(
  conf: ConfState,
  change: ConfChange,
  limits: ConfLimits = raftDefaults,
): { conf: ConfState } | { invalid: string } {
  const { node } = change;
  switch (change.type) {
    case 'add-learner':
      if (isMember(conf, node)) return { invalid: `${node} is already a member` };
      if (conf.learners.length >= limits.learnersMax) return { invalid: `the configuration has learnersMax (${limits.learnersMax}) learners` };
      return { conf: makeConfState(conf.voters, [...conf.learners, node]) };
    case 'promote':
      if (!conf.learners.includes(node)) return { invalid: `${node} is not a learner` };
      if (conf.voters.length >= limits.votersMax) return { invalid: `the configuration has votersMax (${limits.votersMax}) voters` };
      return {
        conf: makeConfState(
          [...conf.voters, node],
          conf.learners.filter((l) => l !== node),
        ),
      };
    case 'remove':
      if (!isMember(conf, node)) return { invalid: `${node} is not a member` };
      if (conf.voters.length === 1 && conf.voters[0] === node) return { invalid: 'cannot remove the last voter' };
      return {
        conf: makeConfState(
          conf.voters.filter((v) => v !== node),
          conf.learners.filter((l) => l !== node),
        ),
      };
    default: {
      const never: never = change;
      return never;
    }
  }
}
