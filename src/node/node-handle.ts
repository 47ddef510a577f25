/**
 * The app's side of a Node node: the same `PeerquorumNode` API as a tab's (src/client/
 * create-node.ts; what the two share is src/client/node-api-handle.ts), over a `worker_threads` Worker instead of a Web Worker. The node (driver,
 * file log, sockets) lives in the worker, so the app's thread stays free; calls cross with
 * comlink and answer `Result`s that `unwrap` turns back into `NodeError`s with their code.
 *
 * What a tab has and a Node node does not: the id lock and sessionStorage (an operator names the
 * node), the Web Locks failure oracle (peers in other processes: check-quorum and pre-vote
 * find a dead leader), `pagehide` (a process stops on a signal: the CLI calls `stop`).
 *
 * What it adds: `address` (where peers dial it), `stop({ handOver })` (a leader hands over and
 * waits, bounded, until it is no longer leader, so that the TimeoutNow leaves before the sockets
 * close), and `testing.crash()`, which terminates the worker without a word: the closest to
 * kill -9 inside one process (nothing is flushed; what was fsynced stays).
 */
import * as Comlink from 'comlink';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { NodeId } from '../core/raft/types.ts';
import type { Result } from '../core/result.ts';
import type { PeerquorumNode } from '../client/create-node.ts';
import type { MachineClient } from '../client/machine-client.ts';
import { NodeApiHandle, stopTimeoutMs, workerTestHooks, type NodeTestHooks } from '../client/node-api-handle.ts';
import { WorkerCalls } from './worker-calls.ts';
import type { NodeEvent, NodeStatus, WorkerApi } from '../runtime/worker-protocol.ts';

/** How long a leader's `stop({ handOver: true })` waits to be deposed by its transferee. */
export const handOverWaitMsDefault = 2_000;
const handOverPollMs = 10;

export interface NodeStopOptions {
  /** A leader hands leadership to its most up-to-date follower first (default true). */
  readonly handOver?: boolean;
  /** How long to wait for the hand-over to depose this node (default 2 s); it stops anyway after. */
  readonly handOverWaitMs?: number;
}

/** What `stop` did before it stopped the node. */
export interface NodeStopReport {
  /** The node led when `stop` was called, and was asked to hand over. */
  readonly wasLeader: boolean;
  /** It saw itself deposed (its transferee took over) within `handOverWaitMs`. */
  readonly deposed: boolean;
}

const notHandedOver: NodeStopReport = { wasLeader: false, deposed: false };

export interface NodeProcessTestHooks extends NodeTestHooks {
  /** Terminate the worker at once, as kill -9 would (no stop, no hand-over, no flush). */
  crash(): Promise<void>;
}

/** A Node node (`createNode` of `peerquorum/node`). */
export interface NodeNode<Command, Result, Query, Answer> extends PeerquorumNode<Command, Result, Query, Answer> {
  /** `ws://host:port` where this node listens (the port chosen when `listen` said 0); null when it only dials. */
  readonly address: string | null;
  /** Stop the node (see `NodeStopOptions`); `close()` is `stop()` with the defaults. Later calls answer the first's report. */
  stop(options?: NodeStopOptions): Promise<NodeStopReport>;
  /** A leader starts handing leadership over to its best follower, and returns at once. */
  handOver(): Promise<void>;
  readonly testing: NodeProcessTestHooks;
}

export class NodeHandle<C, R, Q, A> extends NodeApiHandle<C, R, Q, A> implements NodeNode<C, R, Q, A> {
  readonly testing: NodeProcessTestHooks;
  readonly persistence = Promise.resolve('unavailable' as const);
  readonly rejoinedAfterEviction = null;
  address: string | null = null;
  /** Why the worker is gone, for the STOPPED errors of calls it left waiting. */
  private failure = 'it exited';
  private closing: Promise<NodeStopReport> | null = null;
  private readonly calls: WorkerCalls;

  constructor(
    id: NodeId,
    readonly cluster: string,
    private readonly worker: Worker,
    remote: Comlink.Remote<WorkerApi>,
    private readonly events: MessagePort,
    client: MachineClient<C, R, Q, A>,
    /** Called once the worker is gone, however it went (the data directory's claim is released). */
    private readonly onGone: () => void,
  ) {
    // The worker's API as `api`: a call in flight when the worker dies fails with STOPPED (worker-calls.ts).
    const calls = new WorkerCalls();
    super(id, calls.wrap(remote), client, 'the node is stopped');
    this.calls = calls;
    events.on('message', (e: NodeEvent) => this.dispatch(e));
    // The worker died on its own (an uncaught error in it): the node is gone; say so, once.
    worker.once('error', (e: Error) => {
      this.failure = `it failed: ${e.message}`;
      this.dispatch({ type: 'error', error: { code: 'INTERNAL', message: `the node's worker failed: ${e.message}` } });
    });
    worker.once('exit', () => {
      this.closing ??= Promise.resolve(notHandedOver);
      this.calls.gone(this.failure);
      this.events.close();
      this.onGone();
    });
    this.testing = {
      ...workerTestHooks(this.api),
      crash: async () => {
        this.closing ??= Promise.resolve(notHandedOver);
        await this.worker.terminate();
      },
    };
  }

  protected isClosed(): boolean {
    return this.closing !== null;
  }

  async handOver(): Promise<void> {
    this.checkOpen();
    await this.api.handOver();
  }

  async close(): Promise<void> {
    await this.stop();
  }

  stop(options: NodeStopOptions = {}): Promise<NodeStopReport> {
    this.closing ??= this.shutdown(options);
    return this.closing;
  }

  private async shutdown(options: NodeStopOptions): Promise<NodeStopReport> {
    const report = options.handOver === false ? notHandedOver : await this.handOverAndWait(options.handOverWaitMs ?? handOverWaitMsDefault).catch(() => notHandedOver);
    // The worker's stop closes the log and the sockets; bounded, since a stuck fsync must not
    // keep the process from exiting (what it had not synced was never acknowledged).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.api.stop().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, stopTimeoutMs)))]);
    clearTimeout(timer);
    this.api[Comlink.releaseProxy]();
    await this.worker.terminate();
    return report;
  }

  /** A leader asks its best follower to take over, then waits (bounded) to see itself deposed. */
  private async handOverAndWait(waitMs: number): Promise<NodeStopReport> {
    const leading = (s: Result<NodeStatus>): boolean => s.ok && s.value.role === 'leader';
    const now = await this.api.status();
    if (!leading(now)) return notHandedOver;
    // A cluster of one has no one to hand over to: no wait for a deposition that cannot come.
    if (now.ok && now.value.voters.every((v) => v === this.id)) return { wasLeader: true, deposed: false };
    await this.api.handOver();
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (!leading(await this.api.status())) return { wasLeader: true, deposed: true };
      if (Date.now() >= deadline) return { wasLeader: true, deposed: false };
      await new Promise((r) => setTimeout(r, handOverPollMs));
    }
  }
}
