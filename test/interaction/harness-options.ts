/**
 * The arguments of the interaction harness's commands (harness.ts): positional arguments,
 * counts, and the `key=value` options of `add-nodes` and `add-node` mapped onto the core's
 * `RaftConfig`. Also the error that aborts a script and the bounds on loops a script drives.
 */
import type { RaftConfig } from '../../src/core/raft/config.ts';
import type { NodeId } from '../../src/core/raft/types.ts';

/** A broken safety property or a bad script: aborts the run. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/** Upper bounds on loops driven by the script (TIGER_STYLE: a limit on everything). */
export const stabilizeRoundsMax = 1000;
export const readiesPerNodeMax = 100;
const ticksPerCommandMax = 10_000;

export function arg(args: readonly string[], i: number): string {
  const a = args[i];
  if (a === undefined) throw new HarnessError(`missing argument ${i + 1}`);
  return a;
}

export function count(s: string | undefined): number {
  if (s === undefined) return 1;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1 || n > ticksPerCommandMax) throw new HarnessError(`bad count ${s}`);
  return n;
}

export type RaftOptions = Partial<Omit<RaftConfig, 'id' | 'voters' | 'learners' | 'prng'>>;

export interface Options {
  seed?: number;
  learners?: NodeId[];
  raft: RaftOptions;
  /** The options that older scripts did not have, echoed back (` chunk=8 trailing=2`). */
  extra: string;
}

/** Options that existed before membership and snapshots: `add-nodes` does not echo them. */
const numericOptions: Record<string, string> = {
  election: 'electionTimeoutTicks',
  heartbeat: 'heartbeatIntervalTicks',
  inflight: 'maxInflightAppends',
  maxentries: 'maxEntriesPerAppend',
  maxbytes: 'maxBytesPerAppend',
  maxuncommitted: 'maxUncommittedEntries',
  drift: 'leaseDriftTicks',
};

/** Membership and snapshot options: echoed by `add-nodes` and `add-node` when given. */
const echoedNumericOptions: Record<string, string> = {
  chunk: 'snapshotChunkBytes',
  maxsnapshot: 'maxSnapshotBytes',
  snapshotevery: 'snapshotEveryEntries',
  snapshotbytes: 'snapshotEveryBytes',
  trailing: 'snapshotTrailingEntries',
  promoteafter: 'promoteLearnerAfterTicks',
  promotelag: 'promoteLearnerLagEntries',
  removeafter: 'removeUnreachableVoterAfterTicks',
  minvoters: 'minVoters',
};

export function parseOptions(args: readonly string[]): Options {
  const raft: Record<string, number | boolean> = {};
  const opts: Options = { raft, extra: '' };
  const flags: Record<string, string> = { prevote: 'preVote', checkquorum: 'checkQuorum', forward: 'forwardProposals' };
  for (const a of args) {
    const [k, v] = a.split('=') as [string, string | undefined];
    if (v === undefined) throw new HarnessError(`option ${a} needs a value`);
    const num = numericOptions[k];
    const echoed = echoedNumericOptions[k];
    const flag = flags[k];
    if (k === 'seed') opts.seed = Number(v);
    else if (k === 'learners') {
      opts.learners = v.split(',').filter((id) => id !== '');
      opts.extra += ` ${a}`;
    } else if (num !== undefined) raft[num] = Number(v);
    else if (echoed !== undefined) {
      raft[echoed] = Number(v);
      opts.extra += ` ${a}`;
    } else if (flag !== undefined) raft[flag] = v === 'true';
    else throw new HarnessError(`unknown option ${k}`);
  }
  return opts;
}
