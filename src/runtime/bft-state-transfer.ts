/**
 * State transfer between BFT replicas over the wire (the host's `fetchState`, bft-host.ts), for
 * a replica that fell behind a stable checkpoint its peers hold (PBFT TOCS §5.3.2: it cannot
 * execute from its log, the messages below the low watermark are gone). The messages are
 * bft-state-messages.ts; the engine never sees them.
 *
 * Asking: the state at a stable checkpoint `seq` whose digest 2F + 1 replicas certified
 * (`stateDigest`) is asked of ONE peer at a time (a state can be megabytes; asking all would
 * multiply that by N - 1). The chunks of the asked peer's reply are collected (a chunk from anyone
 * else, for another seq, or disagreeing with the first chunk's length is refused and counted);
 * once all are in, the state's SHA-256 must be the certified digest, or the state is refused
 * (`statesWrong`) and the next peer is asked. So is a peer silent for `replyTimeoutMs` (one that
 * does not hold the state says nothing). After every peer, `done(null)`: the host counts the
 * failure, and the engine says `state-behind` again at its next stable checkpoint or status.
 * The host checks the digest once more before installing (bft-host.ts), so this check is what
 * lets us move on to another peer, not what keeps a wrong state out.
 *
 * Answering: a replica answers with the state it keeps at that stable checkpoint (`stateAt`),
 * at most once per `answerIntervalMs` per peer (a peer asking in a loop makes us send megabytes
 * in a loop: Aardvark §4.4's lesson that one member must not eat our bandwidth); more often is
 * refused and counted. Only replicas are answered (the links are authenticated: `from` is who
 * sent it).
 *
 * Bounds: one transfer at a time; its chunks at most `stateChunksMax` of at most
 * `stateChunkBytes`, `stateBytesMax` in all (checked by the codec and again here).
 */
import type { Digest } from '../core/bft/types.ts';
import type { NodeId } from '../core/raft/types.ts';
import { stateDigestOf } from '../io/crypto/bft-digests.ts';
import { stateReplies, type BftStateMessage, type BftStateReply } from '../io/bft-state-messages.ts';
import type { Clock } from './clock.ts';

export interface BftStateTransferOptions {
  readonly self: NodeId;
  readonly replicas: readonly NodeId[];
  readonly send: (m: BftStateMessage) => void;
  /** The state this replica keeps at stable checkpoint `seq` (bft-host.ts `stateAt`), or null. */
  readonly stateAt: (seq: number) => Uint8Array | null;
  readonly clock: Clock;
  /** How long the asked peer may take to send the whole state; default 5 s. */
  readonly replyTimeoutMs?: number;
  /** A peer is answered at most once per this span; default 1 s. */
  readonly answerIntervalMs?: number;
}

export interface BftStateTransferMetrics {
  requestsSent: number;
  statesFetched: number;
  /** States whose SHA-256 was not the certified digest (a Byzantine or stale peer): refused, another peer asked. */
  statesWrong: number;
  /** Asked peers that sent nothing, or not all of it, in time. */
  timeouts: number;
  /** Chunks refused: no transfer running, not from the asked peer, another seq, inconsistent with the first chunk, repeated. */
  repliesRefused: number;
  requestsAnswered: number;
  /** Requests we could not answer: no state kept at that seq. */
  requestsUnanswerable: number;
  /** Requests refused: from a non-replica or ourselves, or a peer asking again within `answerIntervalMs`. */
  requestsRefused: number;
}

interface Transfer {
  readonly seq: number;
  readonly digest: Digest;
  readonly done: (state: Uint8Array | null) => void;
  /** Peers left to ask, in order. */
  readonly peers: NodeId[];
  peer: NodeId | null;
  chunks: (Uint8Array | undefined)[];
  stateBytes: number;
  received: number;
  cancelTimer: (() => void) | null;
}

export class BftStateTransfer {
  readonly metrics: BftStateTransferMetrics = { requestsSent: 0, statesFetched: 0, statesWrong: 0, timeouts: 0, repliesRefused: 0, requestsAnswered: 0, requestsUnanswerable: 0, requestsRefused: 0 };
  private transfer: Transfer | null = null;
  private readonly answeredAtMs = new Map<NodeId, number>();
  /** Where the next transfer starts in the peer list: successive transfers start at different peers. */
  private firstPeer = 0;
  private stopped = false;

  constructor(private readonly o: BftStateTransferOptions) {}

  /** The host's `fetchState`: the state at `seq` whose SHA-256 is `digest`, or null once every peer failed. */
  fetch(seq: number, digest: Digest, done: (state: Uint8Array | null) => void): void {
    if (this.stopped) return done(null);
    this.finish(null);
    const others = this.o.replicas.filter((r) => r !== this.o.self);
    const start = this.firstPeer++ % Math.max(1, others.length);
    const peers = [...others.slice(start), ...others.slice(0, start)];
    this.transfer = { seq, digest, done, peers, peer: null, chunks: [], stateBytes: 0, received: 0, cancelTimer: null };
    this.askNext();
  }

  receive(m: BftStateMessage): void {
    if (this.stopped) return;
    if (m.type === 'state-request') this.answer(m.from, m.seq);
    else this.take(m);
  }

  stop(): void {
    this.finish(null);
    this.stopped = true;
  }

  private answer(from: NodeId, seq: number): void {
    const now = this.o.clock.now();
    const last = this.answeredAtMs.get(from);
    if (!this.o.replicas.includes(from) || from === this.o.self || (last !== undefined && now - last < (this.o.answerIntervalMs ?? 1000))) {
      this.metrics.requestsRefused++;
      return;
    }
    const state = this.o.stateAt(seq);
    if (state === null) {
      this.metrics.requestsUnanswerable++;
      return;
    }
    this.answeredAtMs.set(from, now);
    this.metrics.requestsAnswered++;
    for (const r of stateReplies(this.o.self, from, seq, state)) this.o.send(r);
  }

  private take(m: BftStateReply): void {
    const t = this.transfer;
    if (t === null || m.from !== t.peer || m.seq !== t.seq || (t.received > 0 && (m.chunks !== t.chunks.length || m.stateBytes !== t.stateBytes)) || t.chunks[m.chunk] !== undefined) {
      this.metrics.repliesRefused++;
      return;
    }
    if (t.received === 0) {
      t.chunks = new Array<Uint8Array | undefined>(m.chunks).fill(undefined);
      t.stateBytes = m.stateBytes;
    }
    t.chunks[m.chunk] = m.data;
    t.received++;
    if (t.received < t.chunks.length) return;
    const state = new Uint8Array(t.stateBytes);
    let offset = 0;
    for (const c of t.chunks) {
      state.set(c as Uint8Array, offset);
      offset += (c as Uint8Array).byteLength;
    }
    if (stateDigestOf(state) !== t.digest) {
      this.metrics.statesWrong++;
      this.askNext();
      return;
    }
    this.metrics.statesFetched++;
    this.finish(state);
  }

  private askNext(): void {
    const t = this.transfer;
    if (t === null) return;
    t.cancelTimer?.();
    const peer = t.peers.shift();
    if (peer === undefined) return this.finish(null);
    t.peer = peer;
    t.chunks = [];
    t.received = 0;
    t.stateBytes = 0;
    t.cancelTimer = this.o.clock.after(this.o.replyTimeoutMs ?? 5000, () => {
      if (this.transfer !== t || t.peer !== peer) return;
      this.metrics.timeouts++;
      this.askNext();
    });
    this.metrics.requestsSent++;
    this.o.send({ type: 'state-request', from: this.o.self, to: peer, seq: t.seq });
  }

  private finish(state: Uint8Array | null): void {
    const t = this.transfer;
    if (t === null) return;
    this.transfer = null;
    t.cancelTimer?.();
    t.done(state);
  }
}
