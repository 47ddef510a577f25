/**
 * What a node's own host asks of its Raft engine, as inputs to `step` like messages from peers
 * (src/core/engine.ts): not side doors that change state around the step. Each is tagged by
 * `local`, so it can never be confused with a peer's message (those are tagged by `type`, and
 * arrive from the network), and each answers a typed result.
 */
import type { ConfChange } from './conf-change.ts';
import type { NotLeaderError, ProposalDroppedError, ReadDroppedError } from './errors.ts';
import type { Message } from './messages.ts';
import type { NodeId } from './types.ts';

export type ReadMode = 'linearizable' | 'lease';

export type RaftLocalInput =
  /** Propose a command (on a follower it is forwarded to the leader). */
  | { readonly local: 'propose'; readonly data: Uint8Array }
  /**
   * Propose commands in order, in one step: what a host that holds many at once (a batch from
   * its page) sends, so that the core allocates per batch, not per command, beyond the entries.
   */
  | { readonly local: 'propose-batch'; readonly data: readonly Uint8Array[] }
  /** Ask for a read index (the answer is a `ReadState` in a later Ready, or a dropped read). */
  | { readonly local: 'read'; readonly requestId: number; readonly mode: ReadMode }
  /** Campaign now, as if the election timeout had expired (tests, a failure oracle). */
  | { readonly local: 'campaign' }
  /**
   * An outside failure detector says `leader` is gone (etcd's ForgetLeader). `suspected`: the
   * detector may be wrong (phi accrual across browsers), so the leader's later messages in its
   * term are followed again; without it (the Web Locks oracle, never wrong) they are ignored for
   * the rest of the term.
   */
  | { readonly local: 'forget-leader'; readonly leader: NodeId; readonly suspected?: boolean }
  /** Ask `via` to add this node, which has no configuration, as a learner (§4.2.1). */
  | { readonly local: 'join'; readonly via: readonly NodeId[] }
  /** Hand leadership to `to` (§3.10); `urgent`: this node is about to go. */
  | { readonly local: 'transfer-leadership'; readonly to: NodeId; readonly urgent: boolean }
  /** Propose a membership change (one server at a time, §4.1). */
  | { readonly local: 'conf-change'; readonly change: ConfChange };

/** What `step` takes: a peer's message or a local request. */
export type RaftInput = Message | RaftLocalInput;

/** What `step` answers when it accepts an input. */
export type RaftStepAccepted =
  /** A peer's message was stepped (what the engine ignored in it is counted, never refused). */
  | { readonly kind: 'stepped' }
  /**
   * A batch: its first `count` commands appended at `firstIndex`, `firstIndex + 1`... in `term`
   * on this leader; the command after them was refused for `refused` (null when all were
   * appended), and neither it nor any later one of the batch was appended.
   */
  | { readonly kind: 'appended-batch'; readonly firstIndex: number; readonly count: number; readonly term: number; readonly refused: ProposalDroppedError | null }
  /** Appended at (index, term) on this leader: committed when an applied entry there has that term. */
  | { readonly kind: 'appended'; readonly index: number; readonly term: number }
  /** Forwarded to the leader; the outcome is seen only by watching what gets applied. */
  | { readonly kind: 'forwarded'; readonly to: NodeId }
  /** Taken (a read asked, a campaign started, a request sent); nothing more to say now. */
  | { readonly kind: 'accepted' }
  /** Nothing to do (a leader asked to campaign, a member asked to join, a leader not the one forgotten). */
  | { readonly kind: 'unchanged' };

export type RaftStepRefused = NotLeaderError | ProposalDroppedError | ReadDroppedError;

export function isLocalInput(input: RaftInput): input is RaftLocalInput {
  return 'local' in input;
}
