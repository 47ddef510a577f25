/**
 * The engine's side of the crypto it asks of its host (proof-requests.ts): requests numbered, handed out
 * in the next Ready, and matched with their answers by id. What to do with an answer is a
 * continuation kept here; an answer of the wrong shape (another op, another count) is the host's
 * bug and asserted on. What peers' messages ask for is bounded by `cryptoRequestsPendingMax` in
 * all and per sender by `perSenderPendingMax` (Aardvark §4.4: a flooding peer waits on its own
 * budget, never the others'); the caller drops and counts what does not fit. The replica's own
 * work (signing its prepares, checkpoints and view-changes, digesting batches it checks) is
 * never refused: a flood of clients must not keep a replica from signing its prepare, and that
 * work is bounded by the protocol (the window's seqs) and by the peers' budget that triggers it.
 */
import { assert } from '../assert.ts';
import type { CryptoRequest, CryptoResult, DigestPayload, SignedPayload, VerifyItem } from './proof-requests.ts';
import type { Digest, Signature } from './types.ts';

interface Pending {
  readonly op: CryptoRequest['op'];
  readonly count: number;
  readonly sender: string | null;
  readonly client: boolean;
  readonly done: (result: CryptoResult) => void;
}

export class CryptoBroker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly perSender = new Map<string, number>();
  /** Requests outstanding on behalf of clients (replicas have only their per-sender shares). */
  private clients = 0;
  /** Requests not yet handed to the host. */
  queued: CryptoRequest[] = [];

  constructor(
    private readonly pendingMax: number,
    private readonly perSenderMax: number,
  ) {}

  /**
   * Whether one more request may be asked on behalf of `sender` (null: our own work, always).
   * Clients share `pendingMax` between them; each replica has its own share only, so a flood of
   * client requests never keeps a replica's pre-prepares and prepares from being checked
   * (Aardvark §4.4 keeps client and replica traffic apart for the same reason).
   */
  hasRoom(sender: string | null, isClient = false): boolean {
    if (sender === null) return true;
    if (isClient && this.clients >= this.pendingMax) return false;
    return (this.perSender.get(sender) ?? 0) < this.perSenderMax;
  }

  /** Whether clients' requests fill their budget (else a refusal was the sender's own share). */
  get clientsFull(): boolean {
    return this.clients >= this.pendingMax;
  }


  get size(): number {
    return this.pending.size;
  }

  sign(payloads: readonly SignedPayload[], sender: string | null, done: (signatures: readonly Signature[]) => void): void {
    this.ask({ op: 'sign', payloads }, payloads.length, sender, (r) => {
      assert(r.op === 'sign', 'sign answered by another op');
      done(r.signatures);
    });
  }

  /** `isClient`: `sender` is a client (its share is taken from the clients' budget too). */
  verify(items: readonly VerifyItem[], sender: string | null, done: (valid: readonly boolean[]) => void, isClient = false): void {
    if (items.length === 0) {
      done([]);
      return;
    }
    this.ask({ op: 'verify', items }, items.length, sender, (r) => {
      assert(r.op === 'verify', 'verify answered by another op');
      done(r.valid);
    }, isClient);
  }

  digest(payloads: readonly DigestPayload[], sender: string | null, done: (digests: readonly Digest[]) => void): void {
    this.ask({ op: 'digest', payloads }, payloads.length, sender, (r) => {
      assert(r.op === 'digest', 'digest answered by another op');
      done(r.digests);
    });
  }

  private ask(body: { op: 'sign'; payloads: readonly SignedPayload[] } | { op: 'verify'; items: readonly VerifyItem[] } | { op: 'digest'; payloads: readonly DigestPayload[] }, count: number, sender: string | null, done: (r: CryptoResult) => void, isClient = false): void {
    assert(this.hasRoom(sender, isClient), 'crypto request asked without room');
    const id = this.nextId++;
    this.queued.push({ id, ...body } as CryptoRequest);
    const client = sender !== null && isClient;
    this.pending.set(id, { op: body.op, count, sender, client, done });
    if (sender !== null) this.perSender.set(sender, (this.perSender.get(sender) ?? 0) + 1);
    if (client) this.clients++;
  }

  /** An answer from the host; false when it answers nothing outstanding (a late answer after a restart of the engine). */
  answer(result: CryptoResult): boolean {
    const p = this.pending.get(result.id);
    if (p === undefined) return false;
    const count = result.op === 'sign' ? result.signatures.length : result.op === 'verify' ? result.valid.length : result.digests.length;
    assert(result.op === p.op && count === p.count, `crypto answer ${result.id} does not fit its request`);
    this.pending.delete(result.id);
    if (p.client) this.clients--;
    if (p.sender !== null) {
      const n = (this.perSender.get(p.sender) ?? 1) - 1;
      if (n === 0) this.perSender.delete(p.sender);
      else this.perSender.set(p.sender, n);
    }
    p.done(result);
    return true;
  }

  take(): CryptoRequest[] {
    const q = this.queued;
    this.queued = [];
    return q;
  }
}
