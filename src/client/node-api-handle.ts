/**
 * The part of a node's handle that is the same wherever its worker runs: a tab's (create-node.ts,
 * over a Web Worker) and a Node process's (src/node/node-handle.ts, over a `worker_threads`
 * Worker). Both hold the worker's comlink API and build the same surface on it: proposals
 * batched per task, reads, status, leadership transfer, CRDT handles, `members`, `bft`, the test
 * hooks and the event listeners. Calls answer `Result`s that `unwrap` turns back into
 * `NodeError`s with their code.
 *
 * What differs stays in each subclass: how the worker starts, stops and reports its events, what
 * a tab also watches in those events (its role for `pagehide`, the leader for the Web Locks
 * oracle, durable state for the id), and when the node counts as closed.
 *
 * This module imports neither browser-only nor Node-only modules, so that both sides can extend
 * it.
 */
import type * as Comlink from 'comlink';
import { knownTaggedError } from '../core/error-code.ts';
import type { CrdtTypeName, CrdtValues } from '../core/crdt/crdt-types.ts';
import type { CrdtOp } from '../core/gossip/crdt-op.ts';
import type { NodeId } from '../core/raft/types.ts';
import type { Result } from '../core/result.ts';
import type { CrdtChangedEvent, MachineDigest, NodeEvent, NodeEventType, NodeMetrics, NodeStatus, ReadConsistency, WorkerApi } from '../runtime/worker-protocol.ts';
import { bftHandle, type BftHandle } from './bft-handle.ts';
import { crdtHandle, crdtTypeOfKind, type CrdtHandleOf, type CrdtKind } from './crdt-handles.ts';
import type { MachineClient } from './machine-client.ts';
import type { Members } from './members.ts';
import { NodeError, unwrap } from './node-error.ts';

/** How long closing waits for the worker's own stop (its storage closes) before terminating it. */
export const stopTimeoutMs = 5_000;
/** The most commands one `proposeMany` call to the worker carries. */
const proposeBatchMax = 256;
const lostResult: Result<never> = { ok: false, error: { code: 'INTERNAL', message: 'the worker answered fewer outcomes than commands' } };

export interface NodeTestHooks {
  /** Drop every frame to and from these peers (this node's side of a partition). */
  block(peers: readonly NodeId[]): Promise<void>;
  unblock(peers?: readonly NodeId[]): Promise<void>;
  /** Hold every frame this node sends or receives for `delayMs` (0: none): slow links. */
  slow(delayMs: number): Promise<void>;
  /** Send raw bytes to `to` on the real link. */
  injectFrame(to: NodeId, frame: Uint8Array): Promise<void>;
  metrics(): Promise<NodeMetrics>;
  digest(): Promise<MachineDigest>;
}

/** The test hooks, straight over the worker's API. */
export function workerTestHooks(api: Comlink.Remote<WorkerApi>): NodeTestHooks {
  return {
    block: (peers) => api.block(peers),
    unblock: (peers) => api.unblock(peers),
    slow: async (delayMs) => unwrap(await api.slow(delayMs)),
    injectFrame: async (to, frame) => unwrap(await api.injectFrame(to, frame)),
    metrics: async () => unwrap(await api.metrics()),
    digest: async () => unwrap(await api.digest()),
  };
}

export abstract class NodeApiHandle<C, R, Q, A> {
  readonly members: Members;
  readonly bft: BftHandle;
  private readonly listeners = new Map<NodeEventType, Set<(e: NodeEvent) => void>>();
  private proposeQueue: { readonly bytes: Uint8Array; readonly resolve: (o: Result<Uint8Array>) => void }[] = [];

  protected constructor(
    readonly id: NodeId,
    readonly api: Comlink.Remote<WorkerApi>,
    private readonly client: MachineClient<C, R, Q, A>,
    /** The message of the STOPPED error a call gets once the node is closed. */
    private readonly closedMessage: string,
  ) {
    this.bft = bftHandle(this.api, (type, listener) => this.on(type, listener), () => this.checkOpen());
    this.members = {
      list: async () => {
        this.checkOpen();
        return unwrap(await this.api.members());
      },
      on: (type, listener) => this.on(type, listener),
    };
  }

  /** The node is closing or closed: every call fails with STOPPED from then on. */
  protected abstract isClosed(): boolean;

  /** What a subclass also does with each event, before the listeners hear it. */
  protected observe(_event: NodeEvent): void {
    // Nothing by default.
  }

  async crdt<K extends CrdtKind>(name: string, type: K): Promise<CrdtHandleOf<K>> {
    this.checkOpen();
    const crdtType = crdtTypeOfKind(type);
    const opened = unwrap(await this.api.crdtOpen(name, crdtType));
    const port = {
      update: async (n: string, op: CrdtOp) => {
        this.checkOpen();
        unwrap(await this.api.crdtUpdate(n, op));
      },
      value: async <N extends CrdtTypeName>(n: string, t: N) => {
        this.checkOpen();
        return unwrap(await this.api.crdtValue(n, t)) as CrdtValues[N];
      },
      onChange: (listener: (e: CrdtChangedEvent) => void) => this.on('crdt-changed', listener),
    };
    return crdtHandle(port, name, crdtType, opened as CrdtValues[typeof crdtType]) as CrdtHandleOf<K>;
  }

  /** An event from the worker: observed by the subclass, then told to every listener of its type. */
  protected dispatch(received: NodeEvent): void {
    // A worker of another build may send a code this one does not know: it reads as INTERNAL.
    const e: NodeEvent = received.type === 'error' ? { ...received, error: knownTaggedError(received.error) } : received;
    this.observe(e);
    for (const l of this.listeners.get(e.type) ?? []) {
      try {
        l(e);
      } catch (error) {
        // A listener's bug must not stop the others, nor the node.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  on<T extends NodeEventType>(type: T, listener: (event: Extract<NodeEvent, { type: T }>) => void): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    const l = listener as (e: NodeEvent) => void;
    set.add(l);
    return () => set.delete(l);
  }

  protected checkOpen(): void {
    if (this.isClosed()) throw new NodeError('STOPPED', this.closedMessage);
  }

  async propose(command: C): Promise<R> {
    this.checkOpen();
    const bytes = this.client.encode(command);
    const outcome = await new Promise<Result<Uint8Array>>((resolve) => {
      this.proposeQueue.push({ bytes, resolve });
      if (this.proposeQueue.length === 1) queueMicrotask(() => this.flushProposals());
    });
    return this.client.decode(unwrap(outcome));
  }

  /**
   * What callers proposed in this task goes to the worker in calls of up to
   * `proposeBatchMax` commands: one message each way per call instead of per command, which
   * is what bounds throughput once the log itself batches (DESIGN.md §7).
   */
  private flushProposals(): void {
    const queue = this.proposeQueue;
    this.proposeQueue = [];
    for (let i = 0; i < queue.length; i += proposeBatchMax) {
      const batch = queue.slice(i, i + proposeBatchMax);
      this.api.proposeMany(batch.map((p) => p.bytes)).then(
        (outcomes) => batch.forEach((p, k) => p.resolve(outcomes[k] ?? lostResult)),
        (e: unknown) => batch.forEach((p) => p.resolve({ ok: false, error: { code: 'STOPPED', message: `the worker did not answer: ${String(e)}` } })),
      );
    }
  }

  async read(query: Q, options: { readonly consistency?: ReadConsistency } = {}): Promise<A> {
    this.checkOpen();
    return this.client.answer(unwrap(await this.api.read(options.consistency ?? 'linearizable', this.client.query(query))));
  }

  async status(): Promise<NodeStatus> {
    this.checkOpen();
    return unwrap(await this.api.status());
  }

  async transferLeadership(to?: NodeId): Promise<NodeId> {
    this.checkOpen();
    return unwrap(await this.api.transferLeadership(to));
  }
}
