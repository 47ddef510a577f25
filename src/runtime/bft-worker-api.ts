/**
 * The BFT calls of the worker's comlink API (`WorkerApi`, worker-protocol.ts) over a node's BFT
 * part (bft-part.ts), answering `Result`s like the rest (DESIGN.md §3). Apart from worker-api.ts
 * so that a Raft-only node's API reads as before. On a node that does not run BFT they answer
 * CONFIG; before start, STOPPED.
 */
import type { Result } from '../core/result.ts';
import type { BftPart } from './bft-part.ts';
import { NodeError } from './errors.ts';
import { attempt, attemptAsync } from './node-host.ts';
import type { WorkerApi } from './worker-protocol.ts';

type BftMethods = Pick<WorkerApi, 'bftVote' | 'bftVoteHandler' | 'bftAnswerVote' | 'bftSetByzantine'>;

/** `part()`: the running node's BFT part, null when it runs none, undefined when no node runs. */
export function bftWorkerMethods(part: () => BftPart | null | undefined): BftMethods {
  const require = (): BftPart => {
    const p = part();
    if (p === undefined) throw new NodeError('STOPPED', 'the node is not running');
    if (p === null) throw new NodeError('CONFIG', "this node does not run 'bft'");
    return p;
  };
  return {
    bftVote: (proposal, timeoutMs) => attemptAsync(() => require().vote(proposal, timeoutMs)),
    bftVoteHandler: (on): Result<void> => attempt(() => require().setVoteHandler(on)),
    bftAnswerVote: (voteId, origin, value): Result<void> => attempt(() => require().answerVote(voteId, origin, value)),
    bftSetByzantine: (mode): Result<void> => attempt(() => require().setByzantine(mode)),
  };
}
