/**
 * A deterministic in-memory network of BFT replicas and clients for the tests of test/core/bft.
 * Every engine's Readies go through THE Ready processor (src/runtime/ready-loop.ts, the class
 * production uses), with a test host that "writes" at once, applies executed batches to a small
 * hash-chain machine, and performs the crypto the engine asks for with node:crypto
 * (test-crypto.ts). Messages take 1..delayMax ticks (seeded), pass the decoder's duty (request
 * digests recomputed), and can be tampered with per sender (a Byzantine member) or dropped
 * (a crashed one).
 */
import { ReadyLoop } from '../../../src/runtime/ready-loop.ts';
import { BftReplica } from '../../../src/core/bft/replica.ts';
import { BftClient } from '../../../src/core/bft/client.ts';
import type { BftConfig } from '../../../src/core/bft/config.ts';
import type { BftEvent } from '../../../src/core/bft/events.ts';
import type { BftInput, ExecutionResult } from '../../../src/core/bft/local-input.ts';
import type { BftMessage, ReplicaMessage, RequestMessage } from '../../../src/core/bft/messages.ts';
import type { BftBoot, BftPersist, BftReady, ExecutedBatch } from '../../../src/core/bft/ready.ts';
import type { ClientEvent, ClientReady } from '../../../src/core/bft/client-types.ts';
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import { decode, performCrypto, sha256Hex } from './test-crypto.ts';

const text = new TextDecoder();
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A deterministic machine: a count and a hash chain of the ops applied; ops starting with `throw` are rejected. */
export class ChainMachine {
  count = 0;
  chain = '';
  apply(op: string): { outcome: 'ok' | 'rejected'; result: Uint8Array } {
    if (op.startsWith('throw')) return { outcome: 'rejected', result: bytes('rejected') };
    this.count++;
    this.chain = sha256Hex(this.chain + op);
    return { outcome: 'ok', result: bytes(`${op}#${this.count}`) };
  }
  digest(): string {
    return sha256Hex(`${this.count}/${this.chain}`);
  }
}

type Work = { kind: 'input'; input: BftInput };

export interface NetworkOptions {
  readonly replicas?: number;
  readonly seed?: number;
  readonly delayMax?: number;
  /** Probability that a message is lost. */
  readonly loss?: number;
  readonly config?: Partial<Omit<BftConfig, 'id' | 'replicas'>>;
  /** Each member's answer to a vote proposal. */
  readonly answer?: (replica: string, proposal: Uint8Array) => Uint8Array;
}

export class BftNetwork {
  readonly ids: string[];
  readonly replicas = new Map<string, BftReplica>();
  readonly machines = new Map<string, ChainMachine>();
  /** Per replica: seq -> the request keys (`client/timestamp`) it applied, and the batch digests of what it executed. */
  readonly executed = new Map<string, Map<number, string[]>>();
  /** Per replica: seq -> the requests (`client/timestamp`) it applied there. */
  readonly appliedAt = new Map<string, Map<number, string[]>>();
  /** Per replica: the machine as it was after each checkpoint seq (what a host restores at restart). */
  private readonly snapshots = new Map<string, Map<number, { count: number; chain: string }>>();
  readonly events = new Map<string, BftEvent[]>();
  readonly persisted = new Map<string, BftPersist[]>();
  readonly clients = new Map<string, BftClient>();
  readonly clientEvents = new Map<string, ClientEvent[]>();
  readonly crashed = new Set<string>();
  /** A Byzantine sender's filter: what it actually sends instead of `m`. */
  readonly tamper = new Map<string, (m: BftMessage) => BftMessage[]>();
  /** Every message handed to the network, in order. */
  readonly sent: BftMessage[] = [];
  now = 0;
  private readonly loops = new Map<string, ReadyLoop<BftReady, BftMessage, ExecutedBatch>>();
  private readonly clientLoops = new Map<string, ReadyLoop<ClientReady, RequestMessage, ClientEvent>>();
  private readonly work = new Map<string, Work[]>();
  private inFlight: { at: number; m: BftMessage }[] = [];
  private readonly prng: Prng;

  constructor(private readonly options: NetworkOptions = {}) {
    const n = options.replicas ?? 4;
    this.ids = Array.from({ length: n }, (_, i) => `r${i}`);
    this.prng = createPrng(options.seed ?? 1);
    for (const id of this.ids) this.addReplica(id);
  }

  private addReplica(id: string, boot?: BftBoot): void {
    const replica = new BftReplica({ requestTimeoutTicks: 60, prePrepareIntervalTicksMax: 30, viewChangeTimeoutTicks: 60, ...this.options.config, id, replicas: this.ids }, boot);
    const machine = new ChainMachine();
    const stableSeq = boot?.stableCheckpoint?.seq ?? 0;
    const snap = this.snapshots.get(id)?.get(stableSeq);
    if (snap !== undefined) Object.assign(machine, snap);
    this.replicas.set(id, replica);
    this.machines.set(id, machine);
    for (const m of [this.executed, this.appliedAt]) {
      const old = m.get(id) ?? new Map<number, string[]>();
      for (const seq of [...old.keys()]) if (seq > stableSeq) old.delete(seq);
      m.set(id, old);
    }
    if (!this.snapshots.has(id)) this.snapshots.set(id, new Map());
    if (!this.events.has(id)) this.events.set(id, []);
    if (!this.persisted.has(id)) this.persisted.set(id, []);
    this.work.set(id, []);
    const work = this.work.get(id) as Work[];
    const loop = new ReadyLoop<BftReady, BftMessage, ExecutedBatch>(replica, {
      persist: (rd, done) => {
        if (rd.persist !== null) this.persisted.get(id)?.push(rd.persist);
        done();
      },
      send: (m) => this.post(m),
      items: (rd) => rd.executed,
      apply: (batch) => {
        const results: ExecutionResult[] = batch.requests.map((r) => ({ client: r.client, timestamp: r.timestamp, ...machine.apply(text.decode(r.op)) }));
        this.executed.get(id)?.set(batch.seq, batch.requests.map((r) => r.digest));
        this.appliedAt.get(id)?.set(batch.seq, batch.requests.map((r) => `${r.client}/${r.timestamp}`));
        if (batch.checkpoint) this.snapshots.get(id)?.set(batch.seq, { count: machine.count, chain: machine.chain });
        work.push({ kind: 'input', input: { local: 'executed', seq: batch.seq, results, stateDigest: batch.checkpoint ? machine.digest() : null } });
      },
      applied: (rd) => {
        for (const c of rd.cryptoRequests) work.push({ kind: 'input', input: { local: 'crypto-result', result: performCrypto(id, c) } });
        for (const r of rd.reads) work.push({ kind: 'input', input: { local: 'read-result', client: r.request.client, timestamp: r.request.timestamp, outcome: 'ok', result: bytes(`count=${machine.count}`) } });
        for (const q of rd.voteQuestions) work.push({ kind: 'input', input: { local: 'vote-answer', voteId: q.voteId, origin: q.origin, value: (this.options.answer ?? (() => q.proposal))(id, q.proposal) } });
        this.events.get(id)?.push(...rd.events);
        for (const e of rd.events) if (e.kind === 'state-behind') this.transferState(id, e.seq, e.stateDigest, machine, work);
      },
      afterAdvance: (_rd, next) => next(),
      fail: (e) => {
        throw e;
      },
    });
    this.loops.set(id, loop);
  }

  addClient(id: string, retransmitTicks = 40): BftClient {
    const client = new BftClient({ id, replicas: this.ids, retransmitTicks });
    this.clients.set(id, client);
    this.clientEvents.set(id, []);
    const pending: BftInput[] = [];
    this.work.set(id, pending.map((input) => ({ kind: 'input', input })));
    const work = this.work.get(id) as Work[];
    const loop = new ReadyLoop<ClientReady, RequestMessage, ClientEvent>(
      { hasReady: () => client.hasReady(), ready: () => client.ready(), advance: () => client.advance() },
      {
        persist: (_rd, done) => done(),
        send: (m) => this.post(m),
        items: (rd) => rd.events,
        apply: (e) => this.clientEvents.get(id)?.push(e),
        applied: (rd) => {
          for (const c of rd.cryptoRequests) work.push({ kind: 'input', input: { local: 'crypto-result', result: performCrypto(id, c) } });
        },
        afterAdvance: (_rd, next) => next(),
        fail: (e) => {
          throw e;
        },
      },
    );
    this.clientLoops.set(id, loop);
    return client;
  }

  submit(client: string, op: string, readOnly = false): number {
    const r = this.clients.get(client)?.step({ local: 'submit', op: bytes(op), readOnly });
    if (r === undefined || !r.ok || r.value.kind !== 'submitted') throw new Error(`submit refused: ${JSON.stringify(r)}`);
    this.flush(client);
    return r.value.timestamp;
  }

  /** Step a local input into a replica and handle what follows. */
  input(id: string, input: BftInput): ReturnType<BftReplica['step']> {
    const r = (this.replicas.get(id) as BftReplica).step(input);
    this.flush(id);
    return r;
  }

  /** Deliver a message as if it came over the authenticated link from `m.from` (after decoding). */
  deliverNow(m: BftMessage): void {
    this.deliver(m);
  }

  flush(id: string): void {
    const loop = this.loops.get(id) ?? this.clientLoops.get(id);
    const work = this.work.get(id);
    if (loop === undefined || work === undefined) return;
    for (let round = 0; round < 10_000; round++) {
      loop.pump();
      const w = work.shift();
      if (w === undefined) return;
      if (this.crashed.has(id)) continue;
      const replica = this.replicas.get(id);
      if (replica !== undefined) {
        const r = replica.step(w.input);
        if (!r.ok) throw r.error;
      } else {
        const r = this.clients.get(id)?.step(w.input as never);
        if (r !== undefined && !r.ok) throw r.error;
      }
    }
    throw new Error(`flush of ${id} did not settle`);
  }

  private post(m: BftMessage): void {
    this.sent.push(m);
    if (this.crashed.has(m.from)) return;
    const t = this.tamper.get(m.from);
    for (const x of t === undefined ? [m] : t(m)) if ((this.options.loss ?? 0) === 0 || this.prng.nextFloat() >= (this.options.loss ?? 0)) this.inFlight.push({ at: this.now + 1 + this.prng.nextInt(this.options.delayMax ?? 1), m: x });
  }

  private deliver(raw: BftMessage): void {
    if (this.crashed.has(raw.to)) return;
    const m = decode(raw);
    if (m.type === 'reply') {
      this.clients.get(m.to)?.step(m);
      this.flush(m.to);
      return;
    }
    const replica = this.replicas.get(m.to);
    if (replica === undefined) return;
    replica.step(m as ReplicaMessage);
    this.flush(m.to);
  }

  tick(): void {
    this.now++;
    const due = this.inFlight.filter((f) => f.at <= this.now);
    this.inFlight = this.inFlight.filter((f) => f.at > this.now);
    for (const f of due) this.deliver(f.m);
    for (const [id, r] of this.replicas) {
      if (this.crashed.has(id)) continue;
      r.tick();
      this.flush(id);
    }
    for (const [id, c] of this.clients) {
      c.tick();
      this.flush(id);
    }
  }

  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) this.tick();
  }

  /** Run until `done` or `ticksMax`; the ticks taken, or -1. */
  runUntil(done: () => boolean, ticksMax: number): number {
    for (let t = 0; t < ticksMax; t++) {
      if (done()) return t;
      this.tick();
    }
    return done() ? ticksMax : -1;
  }

  completed(client: string): Extract<ClientEvent, { kind: 'completed' }>[] {
    return (this.clientEvents.get(client) ?? []).filter((e): e is Extract<ClientEvent, { kind: 'completed' }> => e.kind === 'completed');
  }

  /** Seqs at which two replicas (of `among`) executed different batches: must stay empty. */
  disagreements(among: readonly string[] = this.ids): number[] {
    const bad = new Set<number>();
    const seen = new Map<number, string>();
    for (const id of among) {
      for (const [seq, digests] of this.executed.get(id) ?? []) {
        const key = digests.join(',');
        const prev = seen.get(seq);
        if (prev === undefined) seen.set(seq, key);
        else if (prev !== key) bad.add(seq);
      }
    }
    return [...bad].sort((a, b) => a - b);
  }

  /** Requests (`client/timestamp`) some replica applied twice: must stay empty. */
  duplicates(): string[] {
    const out: string[] = [];
    for (const [id, bySeq] of this.appliedAt) {
      const seen = new Set<string>();
      for (const k of [...bySeq.values()].flat()) {
        if (seen.has(k)) out.push(`${id}:${k}`);
        seen.add(k);
      }
    }
    return out;
  }

  /**
   * A host's state transfer: the machine at `seq` from a peer whose snapshot there has the
   * certified digest, and the exactly-once table that peer persisted with that checkpoint.
   */
  private transferState(id: string, seq: number, stateDigest: string, machine: ChainMachine, work: Work[]): void {
    for (const peer of this.ids) {
      if (peer === id) continue;
      const snap = this.snapshots.get(peer)?.get(seq);
      const probe = Object.assign(new ChainMachine(), snap);
      const clients = (this.persisted.get(peer) ?? []).find((p) => p.stableCheckpoint?.seq === seq)?.stableClients;
      if (snap === undefined || probe.digest() !== stateDigest || clients === undefined || clients === null) continue;
      Object.assign(machine, snap);
      this.snapshots.get(id)?.set(seq, { ...snap });
      work.push({ kind: 'input', input: { local: 'state-transferred', seq, stateDigest, clients } });
      this.transfers++;
      return;
    }
  }

  /** State transfers the test host performed. */
  transfers = 0;

  /** What `id`'s Readies persisted, as the boot a host would read back. */
  bootOf(id: string): BftBoot {
    const records = this.persisted.get(id) ?? [];
    let view = 0;
    let stable: BftBoot['stableCheckpoint'] = null;
    let stableClients: NonNullable<BftBoot['stableClients']> = [];
    const prePrepared: BftBoot['prePrepared'][number][] = [];
    const prepared = new Map<number, BftBoot['prepared'][number]>();
    const committed = new Map<number, NonNullable<BftBoot['committed']>[number]>();
    for (const p of records) {
      view = p.view;
      prePrepared.push(...p.prePrepared);
      for (const c of p.prepared) prepared.set(c.prePrepare.seq, c);
      for (const c of p.committed) committed.set(c.header.seq, c);
      if (p.stableCheckpoint !== null) {
        stable = p.stableCheckpoint;
        stableClients = p.stableClients ?? [];
      }
    }
    const low = stable?.seq ?? 0;
    return { view, stableCheckpoint: stable, stableClients, prePrepared: prePrepared.filter((p) => p.seq > low), prepared: [...prepared.values()].filter((c) => c.prePrepare.seq > low), committed: [...committed.values()].filter((c) => c.header.seq > low) };
  }

  /** Restart a crashed replica from what it persisted: a new engine, its machine restored to its stable checkpoint. */
  restart(id: string): BftReplica {
    this.crashed.delete(id);
    this.addReplica(id, this.bootOf(id));
    return this.replica(id);
  }

  replica(id: string): BftReplica {
    return this.replicas.get(id) as BftReplica;
  }
}
