/**
 * Messages between Raft nodes. Every message is a readonly object with a string-literal `type`,
 * handled by `switch` with an exhaustive check. `term` is the sender's term, except for the
 * forwarded requests and their answer (`propose`, `read-index`, `read-index-response`,
 * `transfer-leader`, `join`), which carry term 0: they are not part of the election protocol and are never
 * used to learn a term.
 */
import type { Entry, NodeId, SnapshotMeta } from './types.ts';

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** AppendEntries (Raft paper §5.3): `entries` follow the entry at `prevIndex` of `prevTerm`. */
export interface AppendMessage extends Envelope {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Answer to `append`. On success `index` is the last index the follower now matches. On reject
 * `index` is the rejected `prevIndex`, and (`hintIndex`, `hintTerm`) name the follower's largest
 * entry at or below it whose term is at most the leader's `prevTerm`, so that the leader can skip
 * a whole term of conflicting entries in one round trip (dissertation §5.3 "fast backtracking").
 */
export interface AppendResponseMessage extends Envelope {
  readonly type: 'append-response';
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/**
 * Leader heartbeat. `commit` is capped at what the follower is known to match, so it never
 * commits an entry it may not have. `round` numbers the leader's heartbeat rounds in its term;
 * an acknowledged round proves leadership at the time it was sent (ReadIndex, leases).
 */
export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly round: number;
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeat-response';
  readonly round: number;
}

/**
 * RequestVote, and the pre-vote that asks "would you vote for me?" without disturbing anyone's
 * term (dissertation §9.6). A pre-vote's `term` is the term the sender would campaign in.
 * `transfer` marks an election started by leadership transfer (§3.10), which may override the
 * check-quorum lease of voters.
 */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'pre-vote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'vote-response' | 'pre-vote-response';
  readonly reject: boolean;
}

/** Leadership transfer: the leader tells an up-to-date follower to campaign now (§3.10). */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeout-now';
}

/** A proposal forwarded by a follower to the leader. */
export interface ProposeMessage extends Envelope {
  readonly type: 'propose';
  readonly data: readonly Uint8Array[];
}

/** A linearizable read forwarded by a follower to the leader, and the leader's answer. */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'read-index';
  readonly requestId: number;
  readonly lease: boolean;
}

export interface ReadIndexResponseMessage extends Envelope {
  readonly type: 'read-index-response';
  readonly requestId: number;
  /** The index the read must wait for; -1 when the leader dropped the read. */
  readonly index: number;
}

/** A leadership transfer request forwarded by a follower to the leader. */
export interface TransferLeaderMessage extends Envelope {
  readonly type: 'transfer-leader';
  readonly transferee: NodeId;
}

/**
 * A node that is not a member asks to join as a learner (dissertation §4.2.1: a new server
 * joins without a vote and catches up first). Sent by the joining node to the members it knows,
 * forwarded by a follower to its leader, and turned by the leader into an `add-learner` change.
 * `node` is the joining node (a forwarded request comes `from` the follower).
 */
export interface JoinMessage extends Envelope {
  readonly type: 'join';
  readonly node: NodeId;
}

/**
 * InstallSnapshot (dissertation §5.4.1), in chunks of bounded size: `data` is the part of the
 * snapshot's bytes starting at `offset`; `done` marks the last chunk.
 */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
  readonly commit: number;
}

/**
 * Answer to a snapshot chunk: how many bytes of the snapshot ending at `index` the follower now
 * holds in a row (the leader resumes from there after a lost chunk), and whether it installed it.
 */
export interface SnapshotResponseMessage extends Envelope {
  readonly type: 'snapshot-response';
  readonly index: number;
  readonly received: number;
  readonly done: boolean;
}

export type Message =
  | AppendMessage
  | SnapshotMessage
  | SnapshotResponseMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | TimeoutNowMessage
  | ProposeMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage
  | TransferLeaderMessage
  | JoinMessage;

export type MessageType = Message['type'];

export const messageTypes: readonly MessageType[] = [
  'append',
  'snapshot',
  'snapshot-response',
  'append-response',
  'heartbeat',
  'heartbeat-response',
  'vote',
  'pre-vote',
  'vote-response',
  'pre-vote-response',
  'timeout-now',
  'propose',
  'read-index',
  'read-index-response',
  'transfer-leader',
  'join',
];

/**
 * Whether a message of a Ready may leave BEFORE the Ready's write is durable (Raft dissertation
 * §10.2.1): a leader may send its entries (and TimeoutNow) to followers in parallel with writing
 * them to its own disk, which takes one disk write off the commit latency. That is safe because nothing in a
 * leader's append, heartbeat or snapshot promises anything about the leader's own disk: the
 * leader counts itself towards a commit only once its entries are durable (the core's self-ack
 * waits for `advance`), and a leader that crashes before its write simply has a shorter log,
 * which it cannot commit in that term again (it would need a new election).
 *
 * A candidate's vote requests (and a pre-candidate's) leave early too, as etcd-raft sends them:
 * a request promises nothing either. The candidate's own vote is the one that must be durable,
 * and it counts it only once it is (`ownVoteWritten`, election.ts): a candidate that crashes
 * before its write wakes in the old term with no vote, may vote for another in the new one,
 * and no majority ever held its lost self-vote. Waiting put a disk write (an IndexedDB commit
 * with strict durability) between TimeoutNow and the voters on every hand-over (§3.10), in
 * series with the voter's own write.
 *
 * Everything else (votes granted, acknowledgements) promises durable state and waits for the
 * write.
 */
export function sendableBeforePersist(m: Message): boolean {
  // TimeoutNow too: it asks the transferee to campaign on ITS log, and promises nothing about
  // the leader's (a leader handing over as its page closes must not wait for a write).
  return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' || m.type === 'timeout-now' || m.type === 'vote' || m.type === 'pre-vote';
}
