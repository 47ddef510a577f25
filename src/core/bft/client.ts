/**
 * The BFT client (PBFT §4.1, TOCS §5.1.3), a pure engine of its own (client-types.ts has the
 * contract). Replies are counted per request by (outcome, result) from distinct replicas; a
 * reply's `from` is the link-authenticated replica, so F liars cannot make F + 1 matching
 * replies. A read-only request needs 2F + 1 matching replies (a tentative answer may not
 * survive a view change unless a quorum gave it); after `readOnlyRetriesMax` retransmissions
 * without them it is sent again as an ordinary ordered request UNDER ITS OWN TIMESTAMP (TOCS
 * §5.1.3 retransmits "the request" as read-write). A read-only request never enters the
 * replicas' exactly-once table, so its timestamp is still unused for ordering; a fresh one
 * instead would be above the timestamps already handed to requests queued behind it, and once
 * the fallback executed, every replica would refuse those as stale for ever.
 */
import { assert } from '../assert.ts';
import { err, ok, type Result } from '../result.ts';
import { CryptoBroker } from './crypto-broker.ts';
import type { BftClientConfig, ClientEvent, ClientInput, ClientReady, ClientStepAccepted } from './client-types.ts';
import { BftRefusedError } from './local-input.ts';
import { opBytesMax, timestampMax } from './limits.ts';
import type { ReplyMessage, RequestMessage } from './messages.ts';
import { readReplyMessage } from './validate-bft.ts';
import { primaryOf } from './config.ts';
import type { SignedRequest } from './types.ts';

interface Outstanding {
  readonly request: SignedRequest | null;
  readonly op: Uint8Array;
  readonly readOnly: boolean;
  readonly timestamp: number;
  /** Replica -> key of its reply (`outcome/result hex`). */
  readonly replies: Map<string, string>;
  retransmitAtTick: number;
  retransmissions: number;
}

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

export class BftClient {
  readonly cfg: Required<BftClientConfig>;
  private readonly f: number;
  private now = 0;
  private view = 0;
  private timestamp: number;
  private timestampHandedOut: number;
  private outstanding: Outstanding | null = null;
  private readonly queue: { op: Uint8Array; readOnly: boolean; timestamp: number }[] = [];
  private readonly broker = new CryptoBroker(4, 4);
  private messages: RequestMessage[] = [];
  private events: ClientEvent[] = [];
  private readyOutstanding = false;
  /** Replies dropped: malformed, from a non-replica, for no outstanding request. */
  repliesIgnored = 0;

  constructor(config: BftClientConfig, lastTimestamp = 0) {
    this.cfg = { retransmitTicks: 100, requestsQueuedMax: 1024, readOnlyRetriesMax: 2, ...config };
    this.f = (config.replicas.length - 1) / 3;
    this.timestamp = this.timestampHandedOut = lastTimestamp;
  }

  step(input: ClientInput): Result<ClientStepAccepted, BftRefusedError> {
    if ('local' in input) {
      if (input.local === 'crypto-result') {
        if (!this.broker.answer(input.result)) return err(new BftRefusedError('bad-argument', `no crypto request ${input.result.id}`));
        return ok({ kind: 'stepped' });
      }
      if (!(input.op instanceof Uint8Array) || input.op.length > opBytesMax) return err(new BftRefusedError('too-large', 'op'));
      if (this.queue.length >= this.cfg.requestsQueuedMax) return err(new BftRefusedError('busy', 'queue full'));
      if (this.timestamp >= timestampMax) return err(new BftRefusedError('busy', 'client timestamps exhausted'));
      const timestamp = ++this.timestamp;
      this.queue.push({ op: input.op, readOnly: input.readOnly, timestamp });
      this.maybeSend();
      return ok({ kind: 'submitted', timestamp });
    }
    this.handleReply(input);
    return ok({ kind: 'stepped' });
  }

  private maybeSend(): void {
    if (this.outstanding !== null || this.queue.length === 0) return;
    const next = this.queue.shift() as { op: Uint8Array; readOnly: boolean; timestamp: number };
    this.begin(next.op, next.readOnly, next.timestamp);
  }

  private begin(op: Uint8Array, readOnly: boolean, timestamp: number): void {
    const o: Outstanding = { request: null, op, readOnly, timestamp, replies: new Map(), retransmitAtTick: Number.MAX_SAFE_INTEGER, retransmissions: 0 };
    this.outstanding = o;
    const body = { client: this.cfg.id, timestamp, op, readOnly };
    this.broker.sign([{ kind: 'request', ...body }], null, ([signature]) => {
      if (this.outstanding !== o) return;
      // The digest is the receiving host's to compute at decode; this side's value is a placeholder never trusted.
      const request: SignedRequest = { ...body, signature: signature as Uint8Array, digest: '0'.repeat(64) };
      (o as { request: SignedRequest | null }).request = request;
      o.retransmitAtTick = this.now + this.cfg.retransmitTicks;
      // A read-only request goes to every replica at once (TOCS §5.1.3); others to the primary.
      if (readOnly) this.toAll(request);
      else this.messages.push({ type: 'request', from: this.cfg.id, to: primaryOf(this.cfg.replicas, this.view), request });
    });
  }

  private toAll(request: SignedRequest): void {
    for (const r of this.cfg.replicas) this.messages.push({ type: 'request', from: this.cfg.id, to: r, request });
  }

  private handleReply(m: ReplyMessage): void {
    const o = this.outstanding;
    if (!readReplyMessage(m).ok || !this.cfg.replicas.includes(m.from) || m.to !== this.cfg.id || o === null || m.timestamp !== o.timestamp || m.readOnly !== o.readOnly) {
      this.repliesIgnored++;
      return;
    }
    const key = `${m.outcome}/${hexOf(m.result)}`;
    o.replies.set(m.from, key);
    let matching = 0;
    for (const k of o.replies.values()) if (k === key) matching++;
    if (matching < (o.readOnly ? 2 * this.f + 1 : this.f + 1)) return;
    if (m.view > this.view) this.view = m.view;
    this.outstanding = null;
    this.events.push({ kind: 'completed', timestamp: o.timestamp, readOnly: o.readOnly, outcome: m.outcome, result: m.result, view: m.view });
    this.maybeSend();
  }

  tick(): void {
    this.now++;
    const o = this.outstanding;
    if (o === null || o.request === null || this.now < o.retransmitAtTick) return;
    o.retransmissions++;
    if (o.readOnly && o.retransmissions > this.cfg.readOnlyRetriesMax) {
      this.outstanding = null;
      this.begin(o.op, false, o.timestamp);
      return;
    }
    o.retransmitAtTick = this.now + this.cfg.retransmitTicks;
    this.toAll(o.request);
    this.events.push({ kind: 'retransmitted', timestamp: o.timestamp });
  }

  hasReady(): boolean {
    return !this.readyOutstanding && (this.messages.length > 0 || this.events.length > 0 || this.broker.queued.length > 0 || this.timestamp !== this.timestampHandedOut);
  }

  ready(): ClientReady {
    assert(!this.readyOutstanding, 'ready() called before advance()');
    const mustPersist = this.timestamp !== this.timestampHandedOut;
    const rd: ClientReady = {
      mustPersist,
      timestamp: mustPersist ? this.timestamp : null,
      messagesBeforeWrite: mustPersist ? [] : this.messages,
      messagesAfterWrite: mustPersist ? this.messages : [],
      appliedBeforeWrite: this.events.length,
      cryptoRequests: this.broker.take(),
      events: this.events,
    };
    this.timestampHandedOut = this.timestamp;
    this.messages = [];
    this.events = [];
    this.readyOutstanding = true;
    return rd;
  }

  advance(): void {
    assert(this.readyOutstanding, 'advance() without ready()');
    this.readyOutstanding = false;
    this.maybeSend();
  }

  /** The timestamp of the request outstanding, or null. */
  get pending(): number | null {
    return this.outstanding?.timestamp ?? null;
  }
}
