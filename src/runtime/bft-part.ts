/**
 * The BFT half of a node (issue 13 item 3), as the node host (node-host.ts) assembles it when
 * the start options say `protocols: ['bft']`: a PBFT replica (bft-host.ts over the engine of
 * src/core/bft) AND a PBFT client (bft-client-host.ts), both over the node's frame router, so the
 * same links and the same secret as Raft and gossip use; the replica executes on the node's
 * machine (the KV machine unchanged, its reads served by TOCS §5.1.3's read-only path); both
 * persist to IndexedDB (a database of their own, src/io/storage/indexeddb-bft-storage.ts).
 *
 * What the page's calls mean on a BFT node:
 * - `propose(command)`: the node's client signs a request with the node's identity key and
 *   answers once F + 1 replicas replied alike (PBFT §4.1: at least one of them is honest);
 * - `read(query)`: a read-only request answered once 2F + 1 replied alike (TOCS §5.1.3; after a
 *   few tries without, it goes through the order instead: the client engine's doing);
 * - `vote(proposal)`: the one-shot quorum vote (src/core/bft/vote.ts), every member answering
 *   with its own value: by default the proposal itself ("I agree"), or what the page answers
 *   when it asked to (`setVoteHandler(true)`: each question goes to it as an event).
 * - `setByzantine(mode)`: tests and demos only, the fault injector (bft-fault-injector.ts) that
 *   makes this replica lie on the wire; `honest` (off) by default.
 *
 * Why the secret is required: without it links carry no MAC, no hello is sent, so no identity
 * key is learned: a Byzantine member could speak for any other and no signature could be
 * checked. The client speaks as `<node>/client`, and with `bftClients: k` the node runs k clients
 * (`<node>/client-1`...; src/io/bft-client-id.ts), each proposal going to the one with the fewest
 * requests waiting: PBFT gives a client one request outstanding (§4.1), so this is how a node
 * keeps several in flight and the primary fills its batches. The clients share one durable
 * timestamp high mark (each hands out timestamps above it, so each client's own stay increasing
 * across restarts). Messages a node sends
 * to itself (its client's request to its own replica, its replica's reply to its own client) are
 * delivered in a microtask, never through a link.
 *
 * A replica that falls behind a stable checkpoint its peers hold fetches the state at it from a
 * peer over the same links (bft-state-transfer.ts: the host's `fetchState`, checked against the
 * certified digest, another peer asked when one sends a wrong state or nothing).
 */
import type { ClientEvent } from '../core/bft/client-types.ts';
import { resolveBftConfig, type BftConfig } from '../core/bft/config.ts';
import type { BftEvent } from '../core/bft/events.ts';
import type { BftMessage, ReplicaMessage, ReplyMessage, RequestMessage } from '../core/bft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { decodeKvCommand, decodeKvResult, encodeKvCommand, encodeKvResult, KvMachine } from '../machines/kv.ts';
import { bftClientIdOf, bftClientNodeOf, bftClientsPerNodeMax } from '../io/bft-client-id.ts';
import { WebCryptoBftProvider } from '../io/crypto/bft-crypto-webcrypto.ts';
import { stateDigestOf } from '../io/crypto/bft-digests.ts';
import { MemoryBftStorage, type BftStorage } from '../io/storage/bft-storage.ts';
import { IndexedDbBftStorage } from '../io/storage/indexeddb-bft-storage.ts';
import { BftClientHost } from './bft-client-host.ts';
import { BftFaultInjector, type BftByzantineMode } from './bft-fault-injector.ts';
import type { BftMachine } from './bft-execution.ts';
import { BftHost } from './bft-host.ts';
import { BftStateTransfer } from './bft-state-transfer.ts';
import { systemClock, type Clock } from './clock.ts';
import { isBftStateMessage } from '../io/bft-state-messages.ts';
import { NodeError } from './errors.ts';
import type { FrameRouter } from './frame-router.ts';
import type { MachineAdapter } from './node-parts.ts';
import type { PeerIdentities } from './peer-identities.ts';
import { storageDirOf, type BftNodeEvent, type BftNodeStatus, type BftVoteOutcome, type WorkerStartOptions } from './worker-protocol.ts';

/** The replicas, in the order that fixes each view's primary: `gossipSeeds` (the page's `peers`), else `voters`. */
export function bftReplicas(options: WorkerStartOptions): NodeId[] {
  return [...(options.gossipSeeds ?? options.voters)];
}

/** The engine's settings; CONFIG without a secret, with a replica list that is not 3F + 1, or ids that read as client aliases. */
export function bftSettings(options: WorkerStartOptions): BftConfig {
  if (options.secret === undefined) throw new NodeError('CONFIG', "protocol 'bft' needs the cluster secret: Byzantine members must not speak for others (authenticated links, identity keys)");
  const replicas = bftReplicas(options);
  if (replicas.some((r) => bftClientNodeOf(r) !== null)) throw new NodeError('CONFIG', 'a BFT replica id must not end with /client or /client-<k>');
  const clients = options.bftClients ?? 1;
  if (!Number.isSafeInteger(clients) || clients < 1 || clients > bftClientsPerNodeMax) throw new NodeError('CONFIG', `bftClients must be an integer from 1 to ${bftClientsPerNodeMax}`);
  const config: BftConfig = { id: options.id, replicas };
  try {
    resolveBftConfig(config);
  } catch (e) {
    throw new NodeError('CONFIG', `bft: ${e instanceof Error ? e.message : String(e)}`);
  }
  return config;
}

/** IndexedDB for a node whose storage is there, memory for one in memory (or whose Raft storage Node code supplied). */
export async function createBftStorage(options: WorkerStartOptions, inMemory: boolean): Promise<BftStorage> {
  if (inMemory || options.storage === 'memory') return new MemoryBftStorage();
  const dir = storageDirOf(options.storage);
  if (dir !== null) return (await import('./file-node-storage.ts')).openFileBftStorage(dir);
  if (options.storage === 'indexeddb') return IndexedDbBftStorage.open({ cluster: options.cluster, node: options.id });
  throw new NodeError('CONFIG', `unknown storage ${JSON.stringify(options.storage)}`);
}

/** The KV machine with TOCS §5.1.3's read-only path: only a `read` command; anything else throws (a write marked read-only is rejected, never applied). */
class KvReadMachine implements BftMachine {
  constructor(private readonly kv: KvMachine) {}
  apply = (command: Uint8Array, index: number): Uint8Array => this.kv.apply(command, index);
  snapshot = (): Uint8Array => this.kv.snapshot();
  restore = (s: Uint8Array): void => this.kv.restore(s);
  query(command: Uint8Array): Uint8Array {
    const c = decodeKvCommand(command);
    if (!c.ok || c.value.op !== 'read') throw new Error('not a read');
    return encodeKvResult({ op: 'read', value: this.kv.read(c.value.key) });
  }
}

interface Caller {
  readonly resolve: (result: Uint8Array) => void;
  readonly reject: (e: NodeError) => void;
  settled: boolean;
}

export interface BftPartOptions {
  readonly options: WorkerStartOptions;
  /** Storage in memory even when the options say IndexedDB (Node code supplied the node's storage). */
  readonly inMemory: boolean;
  readonly router: FrameRouter;
  readonly identities: PeerIdentities;
  readonly machine: MachineAdapter;
  readonly clock?: Clock;
  readonly emit: (e: BftNodeEvent) => void;
  readonly fail: (e: unknown) => void;
}

export class BftPart {
  private readonly replica: BftHost;
  private readonly clients: BftClientHost[] = [];
  private readonly clientById = new Map<string, BftClientHost>();
  /** Per client, callers in submission order: a client engine completes one request at a time, in order (PBFT §4.1). */
  private readonly callers: Caller[][] = [];
  /** The highest client timestamp asked to be durable (the clients share it). */
  private timestampWrittenMax = 0;
  private readonly votes = new Map<string, (o: BftVoteOutcome) => void>();
  private voteHandler = false;
  private readonly isKv: boolean;
  private readonly timeoutMs: number;
  private readonly transfer: BftStateTransfer;
  private readonly faults: BftFaultInjector;
  /** The seq the machine's state is at (the host's `onExecuted`), and its digest once asked for. */
  private machineSeq = 0;
  private stateAt: { seq: number; digest: string } | null = null;

  private constructor(
    private readonly o: BftPartOptions,
    private readonly storage: BftStorage,
    boot: Awaited<ReturnType<BftStorage['boot']>>,
  ) {
    const { options, router, identities } = o;
    const self = options.id;
    const config = bftSettings(options);
    const tickMs = options.tickMs ?? 10;
    this.timeoutMs = options.proposalTimeoutMs ?? 10_000;
    this.isKv = o.machine.machine instanceof KvMachine;
    const crypto = new WebCryptoBftProvider({ sign: (d) => identities.sign(d), publicKey: (n) => (n === self ? identities.publicKey : identities.peerKey(n)) }, { onError: o.fail });
    const later = (f: () => void): void => queueMicrotask(f);
    const machine: BftMachine = this.isKv ? new KvReadMachine(o.machine.machine as KvMachine) : (o.machine.machine as BftMachine);
    const clock = o.clock === undefined ? {} : { clock: o.clock };
    this.faults = new BftFaultInjector({ id: self, replicas: config.replicas, sign: (p, done) => crypto.sign([p], ([s]) => s !== undefined && done(s)), send: (m) => router.bft.send(m) });
    this.transfer = new BftStateTransfer({ self, replicas: config.replicas, send: (m) => router.bft.send(m), stateAt: (seq) => this.replica.stateAt(seq), clock: o.clock ?? systemClock });
    this.replica = new BftHost({
      config,
      durable: boot.durable,
      machine,
      writes: { write: (w, done, failed) => void storage.write(w).then(done, failed) },
      crypto,
      send: (m: BftMessage) => {
        if (bftClientNodeOf(m.to) === self) later(() => this.clientById.get(m.to)?.receive(m as ReplyMessage));
        else if (m.to === self) later(() => this.replica.receive(m as ReplicaMessage));
        else this.faults.send(m);
      },
      ...clock,
      tickMs,
      fetchState: (seq, digest, done) => this.transfer.fetch(seq, digest, done),
      answerVote: (q) => {
        if (!this.voteHandler) return q.proposal;
        o.emit({ type: 'bft-vote-question', voteId: q.voteId, origin: q.origin, proposal: q.proposal });
        return null;
      },
      observer: { onEvent: (e) => this.onEvent(e), onExecuted: (seq) => void (this.machineSeq = seq) },
      fail: o.fail,
    });
    this.timestampWrittenMax = boot.clientTimestamp;
    for (let k = 0; k < (options.bftClients ?? 1); k++) {
      const id = bftClientIdOf(self, k);
      const callers: Caller[] = [];
      const client = new BftClientHost({
        config: { id, replicas: config.replicas },
        lastTimestamp: boot.clientTimestamp,
        writeTimestamp: (t, done, failed) => {
          // Never write a lower mark after a higher one: another client may have handed out more.
          this.timestampWrittenMax = Math.max(this.timestampWrittenMax, t);
          void storage.writeClientTimestamp(this.timestampWrittenMax).then(done, failed);
        },
        crypto,
        send: (m: RequestMessage) => (m.to === self ? later(() => this.replica.receive(m)) : router.bft.send(m)),
        onEvent: (e) => this.onClientEvent(callers, e),
        ...clock,
        tickMs,
        fail: o.fail,
      });
      this.clients.push(client);
      this.clientById.set(id, client);
      this.callers.push(callers);
    }
    this.machineSeq = this.replica.status().lastExecutedSeq;
    router.bft.onMessage((m) => {
      if (isBftStateMessage(m)) this.transfer.receive(m);
      else if (m.type === 'reply') this.clientById.get(m.to)?.receive(m);
      else this.replica.receive(m);
    });
  }

  /** Open the storage, boot from it, start ticking; the storage is closed again if that fails. */
  static async start(o: BftPartOptions): Promise<BftPart> {
    bftSettings(o.options);
    const storage = await createBftStorage(o.options, o.inMemory);
    try {
      const part = new BftPart(o, storage, await storage.boot());
      part.replica.start();
      for (const c of part.clients) c.start();
      return part;
    } catch (e) {
      await storage.close().catch(() => undefined);
      throw e;
    }
  }

  /** Order `command` and apply it everywhere; the machine's result once F + 1 replicas agree on it. */
  propose(command: Uint8Array): Promise<Uint8Array> {
    return this.submit(command, false);
  }

  /** A read-only query (TOCS §5.1.3): the KV machine's key, or a custom machine's bytes. */
  async read(query: unknown): Promise<unknown> {
    if (this.isKv) {
      if (typeof query !== 'string') throw new NodeError('CONFIG', 'a key-value read takes a string key');
      const result = decodeKvResult(await this.submit(encodeKvCommand({ op: 'read', key: query }), true));
      if (!result.ok || result.value.op !== 'read') throw new NodeError('CODEC', 'a key-value read answered something else');
      return result.value.value;
    }
    if (!(query instanceof Uint8Array)) throw new NodeError('CONFIG', 'a read on a BFT node of a custom machine takes bytes (its query(command) answers them)');
    return this.submit(query, true);
  }

  private submit(op: Uint8Array, readOnly: boolean): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let k = 0;
      for (let i = 1; i < this.clients.length; i++) if ((this.callers[i] as Caller[]).length < (this.callers[k] as Caller[]).length) k = i;
      if ((this.clients[k] as BftClientHost).submit(op, readOnly) === null) return reject(new NodeError('PROPOSAL_DROPPED', 'the BFT client refused the request (queue full, too large, or stopped)'));
      const caller: Caller = { resolve, reject, settled: false };
      (this.callers[k] as Caller[]).push(caller);
      setTimeout(() => {
        if (caller.settled) return;
        caller.settled = true;
        reject(new NodeError('TIMEOUT', `no ${readOnly ? '2F + 1' : 'F + 1'} matching replies within ${this.timeoutMs} ms (the request may still execute)`));
      }, this.timeoutMs);
    });
  }

  private onClientEvent(callers: Caller[], e: ClientEvent): void {
    if (e.kind !== 'completed') return;
    const caller = callers.shift();
    if (caller === undefined || caller.settled) return;
    caller.settled = true;
    if (e.outcome === 'ok') caller.resolve(e.result);
    else caller.reject(new NodeError('REJECTED', 'the state machine refused the command on the replicas'));
  }

  /** A one-shot vote (issue 13 item 2); the ticks are `timeoutMs` of the node's tick. */
  vote(proposal: Uint8Array, timeoutMs: number): Promise<BftVoteOutcome> {
    if (!(proposal instanceof Uint8Array)) throw new NodeError('CONFIG', 'a vote proposal is bytes');
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new NodeError('CONFIG', 'a vote needs a positive timeoutMs');
    const r = this.replica.vote(proposal, Math.max(1, Math.ceil(timeoutMs / (this.o.options.tickMs ?? 10))));
    if (!r.ok) throw new NodeError(r.error.code, r.error.message);
    if (r.value.kind !== 'vote-started') throw new NodeError('INTERNAL', 'the vote did not start');
    const voteId = r.value.voteId;
    return new Promise((resolve) => this.votes.set(voteId, resolve));
  }

  setVoteHandler(on: boolean): void {
    this.voteHandler = on;
  }

  answerVote(voteId: string, origin: NodeId, value: Uint8Array): void {
    const r = this.replica.answerVote(voteId, origin, value);
    if (!r.ok) throw new NodeError(r.error.code, r.error.message);
  }

  /** Tests and demos only: make this replica lie on the wire (bft-fault-injector.ts), or stop. */
  setByzantine(mode: BftByzantineMode): void {
    try {
      this.faults.setMode(mode);
    } catch (e) {
      throw new NodeError('CONFIG', e instanceof Error ? e.message : String(e));
    }
  }

  /** SHA-256 of the machine's snapshot and the seq it is at: honest replicas at one seq hold one digest. */
  private state(): { seq: number; digest: string } {
    if (this.stateAt?.seq !== this.machineSeq) this.stateAt = { seq: this.machineSeq, digest: stateDigestOf(this.o.machine.machine.snapshot()) };
    return this.stateAt;
  }

  private onEvent(e: BftEvent): void {
    if (e.kind === 'vote-outcome') {
      const resolve = this.votes.get(e.voteId);
      this.votes.delete(e.voteId);
      resolve?.(e.outcome === 'quorum-reached' && e.value !== null ? { outcome: e.outcome, value: e.value, answers: e.answers } : { outcome: e.outcome === 'quorum-reached' ? 'no-consensus' : e.outcome, answers: e.answers });
    } else if (e.kind === 'view-changed') this.o.emit({ type: 'bft-view-changed', view: e.view, primary: e.primary });
    else if (e.kind === 'view-change-started') this.o.emit({ type: 'bft-view-change-started', view: e.view, reason: e.reason });
  }

  status(): BftNodeStatus {
    const s = this.replica.status();
    const replicas = bftReplicas(this.o.options);
    return {
      view: s.view,
      primary: s.primary,
      viewChanging: s.viewChanging,
      lastExecutedSeq: s.lastExecutedSeq,
      stableSeq: s.stableSeq,
      lowWatermark: s.lowWatermark,
      highWatermark: s.highWatermark,
      suspected: [...s.suspected],
      replicas,
      faultsTolerated: (replicas.length - 1) / 3,
      stateSeq: this.state().seq,
      stateDigest: this.state().digest,
      byzantine: this.faults.mode,
    };
  }

  metrics(): { readonly host: BftHost['metrics']; readonly engine: ReturnType<BftHost['status']>['counters']; readonly faults: BftFaultInjector['counters'] } {
    return { host: { ...this.replica.metrics }, engine: this.replica.status().counters, faults: { ...this.faults.counters } };
  }

  async stop(): Promise<void> {
    this.halt();
    await this.storage.close();
  }

  /** The state transfer's counters (bft-state-transfer.ts). */
  get stateTransferMetrics(): BftStateTransfer['metrics'] {
    return { ...this.transfer.metrics };
  }

  halt(): void {
    this.transfer.stop();
    for (const c of this.clients) c.stop();
    this.replica.stop();
    for (const c of this.callers.flatMap((q) => q.splice(0))) if (!c.settled) c.reject(new NodeError('STOPPED', 'the node stopped'));
  }
}
