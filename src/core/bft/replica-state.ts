/**
 * The state of one replica that the protocol parts (normal-case.ts, checkpoints.ts,
 * view-change.ts, vote.ts) share: the message log of PBFT §4.2 (one slot per sequence number
 * between the watermarks), the requests waiting to be ordered, prepared certificates kept across
 * views, the checkpoint state and the exactly-once table.
 */
import { ClientTable } from './client-table.ts';
import { BftContext } from './context.ts';
import type { ExecutedBatch } from './ready.ts';
import type { CheckpointCertificate, Digest, PrePrepareHeader, PreparedCertificate, ReplicaId, Signature, SignedCheckpoint, SignedRequest } from './types.ts';
import type { NewViewMessage, SignedViewChange } from './messages.ts';

export interface Slot {
  readonly seq: number;
  /** The pre-prepare accepted for this seq in the current view (PBFT §4.2), with its batch. */
  pp: { readonly header: PrePrepareHeader; readonly requests: readonly SignedRequest[] } | null;
  /** A pre-prepare being checked (its signatures and digest are at the host): no second one meanwhile. */
  checking: boolean;
  /** Verified prepares and commits, by sender, with the view and digest they named. */
  readonly prepares: Map<ReplicaId, { readonly view: number; readonly digest: Digest; readonly signature: Signature }>;
  readonly commits: Map<ReplicaId, { readonly view: number; readonly digest: Digest }>;
  /** Prepares and commits waiting for verification or for the pre-prepare, counted against the window only. */
  prepared: boolean;
  /** Our own prepare or commit is out (or, as primary, the pre-prepare stands for the prepare). */
  sentCommit: boolean;
  committed: boolean;
}

export interface PendingRequest {
  readonly request: SignedRequest;
  /** When this replica first held it (PBFT §4.4's timer runs from here, or from the last execution). */
  readonly sinceTick: number;
  /** The seq of the pre-prepare that carries it in the current view, or null while unordered. */
  seq: number | null;
}

export class ReplicaState {
  readonly ctx: BftContext;
  readonly slots = new Map<number, Slot>();
  /** Verified requests not yet executed, by digest, in arrival order (the primary's queue). */
  readonly pending = new Map<Digest, PendingRequest>();
  /** Digests of requests whose client signature verified (bounded; spares a second check of a relayed request). */
  readonly verified = new Set<Digest>();
  readonly clients: ClientTable;
  /** The best prepared certificate per seq above the stable checkpoint (PBFT §4.4's P), kept across views. */
  readonly preparedCerts = new Map<number, PreparedCertificate>();
  /** Pre-prepares accepted per (view, seq): a replica never accepts a second digest for one (persisted). */
  readonly accepted = new Map<string, Digest>();
  /** The last stable checkpoint (h, the low watermark) and its proof; null: the initial state at 0. */
  stable: CheckpointCertificate | null = null;
  /** Signed checkpoints received, by seq then replica (PBFT §4.3), above the stable one. */
  readonly checkpoints = new Map<number, Map<ReplicaId, SignedCheckpoint>>();
  /**
   * The exactly-once table as of each checkpoint seq above the stable one (client, last
   * timestamp): it is part of the replicated state (PBFT keeps the reply cache in the checkpoint),
   * so it is persisted with the stable checkpoint and a restart boots from it.
   */
  readonly clientSnapshots = new Map<number, readonly (readonly [string, number])[]>();
  /** Our own state digests at checkpoint seqs (from the host's `executed` answers). */
  readonly ownStateDigests = new Map<number, Digest>();
  /** The primary's next seq to assign. */
  nextSeq = 1;
  /** A batch is being digested and signed (the primary proposes one at a time). */
  proposing = false;
  /** The highest seq handed to the host to execute, and the highest it answered. */
  lastHandedOut = 0;
  lastExecuted = 0;
  readonly executing = new Map<number, ExecutedBatch>();
  /**
   * PBFT §4.4's request timer: the request it watches (the oldest waiting) and since when. It
   * restarts on the next waiting request only when the watched one executes, so a primary that
   * keeps ordering others while censoring one is still found out.
   */
  watched: Digest | null = null;
  watchedSinceTick = 0;
  /** When a batch last executed, or a pre-prepare last arrived (timers of PBFT §4.4, Aardvark §4.3). */
  lastProgressTick = 0;
  lastPrePrepareTick = 0;
  // ---- view change (view-change.ts) ----
  /** Verified view-changes by target view then sender. */
  readonly viewChanges = new Map<number, Map<ReplicaId, SignedViewChange>>();
  /** Our own view-change for the view we are moving to, once signed. */
  ownViewChange: SignedViewChange | null = null;
  /**
   * When we move on to the next view if no new-view came; null while the timer is not running:
   * it starts only once 2F + 1 replicas are at our target view or beyond (PBFT §4.5.2).
   */
  viewChangeDeadlineTick: number | null = null;
  /** View changes in a row without a new view entered (the timeout doubles each, PBFT §4.5.2). */
  viewChangesInARow = 0;
  /** The new-view for this view was sent (as its primary) or taken. */
  newViewDone = false;
  /** The new-view of the current view (sent or taken), kept to give to a replica that missed it (retransmit.ts). */
  lastNewView: Omit<NewViewMessage, 'type' | 'from' | 'to'> | null = null;
  /** When each peer was last served a retransmission (at most once per `statusIntervalTicks`). */
  readonly servedTick = new Map<ReplicaId, number>();
  /** The primaries of the views this replica left by a view change, most recent last (at most 16). */
  readonly suspected: ReplicaId[] = [];
  /** Read-only requests handed to the host and not answered yet, by `<client>/<timestamp>`. */
  readonly readsOutstanding = new Set<string>();

  constructor(ctx: BftContext) {
    this.ctx = ctx;
    this.clients = new ClientTable(ctx.cfg.clientsMax);
  }

  get low(): number {
    return this.stable?.seq ?? 0;
  }

  get high(): number {
    return this.low + this.ctx.cfg.watermarkWindowSeqs;
  }

  inWindow(seq: number): boolean {
    return seq > this.low && seq <= this.high;
  }

  slot(seq: number): Slot {
    let s = this.slots.get(seq);
    if (s === undefined) {
      s = { seq, pp: null, checking: false, prepares: new Map(), commits: new Map(), prepared: false, sentCommit: false, committed: false };
      this.slots.set(seq, s);
    }
    return s;
  }

  markVerified(digest: Digest): void {
    if (this.verified.has(digest)) return;
    if (this.verified.size >= 2 * this.ctx.cfg.pendingRequestsMax) this.verified.delete(this.verified.values().next().value as Digest);
    this.verified.add(digest);
  }
}

export function acceptedKey(view: number, seq: number): string {
  return `${view}/${seq}`;
}
