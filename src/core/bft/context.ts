/**
 * What the parts of a replica share: the configuration, logical time, the outbox (split by
 * whether a message must wait for the Ready's write), events, counters, the crypto broker and what
 * the next Ready must persist. One object, passed to each part, as the gossip engine's context.
 */
import { CryptoBroker } from './crypto-broker.ts';
import type { ResolvedBftConfig } from './config.ts';
import { primaryOf } from './config.ts';
import { createBftCounters, type BftCounters } from './counters.ts';
import type { BftEvent } from './events.ts';
import type { BftMessage } from './messages.ts';
import type { CommittedBatch, ExecutedBatch, ReadRequest, VoteQuestion } from './ready.ts';
import type { CheckpointCertificate, PreparedCertificate, ReplicaId } from './types.ts';

type Unaddressed<M> = M extends BftMessage ? Omit<M, 'from' | 'to'> : never;

export class BftContext {
  now = 0;
  /** The view this replica is in, or moving to while `viewChanging`. */
  view = 0;
  viewChanging = false;
  readonly counters: BftCounters = createBftCounters();
  readonly broker: CryptoBroker;
  readonly replicaSet: ReadonlySet<ReplicaId>;
  /** Messages that promise nothing about this replica's disk, and those that wait for the write. */
  before: BftMessage[] = [];
  after: BftMessage[] = [];
  events: BftEvent[] = [];
  executed: ExecutedBatch[] = [];
  reads: ReadRequest[] = [];
  voteQuestions: VoteQuestion[] = [];
  // ---- what the next Ready persists ----
  viewPersisted = 0;
  prePrepared: { view: number; seq: number; digest: string }[] = [];
  prepared: PreparedCertificate[] = [];
  committed: CommittedBatch[] = [];
  stableToPersist: CheckpointCertificate | null = null;
  stableClients: readonly (readonly [string, number])[] | null = null;
  discardBelowSeq: number | null = null;

  constructor(readonly cfg: ResolvedBftConfig) {
    this.broker = new CryptoBroker(cfg.cryptoRequestsPendingMax, cfg.perSenderPendingMax);
    this.replicaSet = new Set(cfg.replicas);
  }

  get id(): ReplicaId {
    return this.cfg.id;
  }

  get f(): number {
    return this.cfg.f;
  }

  /** 2F + 1: a quorum (PBFT §4: any two intersect in at least one honest replica). */
  get quorum(): number {
    return 2 * this.cfg.f + 1;
  }

  primary(view: number = this.view): ReplicaId {
    return primaryOf(this.cfg.replicas, view);
  }

  isPrimary(): boolean {
    return !this.viewChanging && this.primary() === this.id;
  }

  isReplica(id: string): boolean {
    return this.replicaSet.has(id);
  }

  /** Queue `m` for `to`; `afterWrite`: it promises what this Ready persists. */
  send(to: string, m: Unaddressed<BftMessage>, afterWrite: boolean): void {
    const q = afterWrite ? this.after : this.before;
    if (this.before.length + this.after.length >= this.cfg.outboxMessagesMax) {
      this.counters.messagesDropped++;
      return;
    }
    q.push({ ...m, from: this.id, to } as BftMessage);
  }

  /** Queue `m` for every other replica. */
  broadcast(m: Unaddressed<BftMessage>, afterWrite: boolean): void {
    for (const r of this.cfg.replicas) if (r !== this.id) this.send(r, m, afterWrite);
  }

  emit(e: BftEvent): void {
    if (this.events.length >= this.cfg.eventsPendingMax) {
      this.events.shift();
      this.counters.eventsDropped++;
    }
    this.events.push(e);
  }

  /** Whether anything must be written before `after` may leave. */
  mustPersist(): boolean {
    return this.view !== this.viewPersisted || this.prePrepared.length > 0 || this.prepared.length > 0 || this.committed.length > 0 || this.stableToPersist !== null || this.discardBelowSeq !== null;
  }
}
