/**
 * THE Ready processor (DESIGN.md §2): the one piece of code that handles a Raft engine's Readies
 * in the order the contract states (src/core/engine.ts, `Ready` in src/core/raft/types.ts). The
 * runtime driver uses it in browsers and Node, the simulator uses it through that same driver,
 * and the golden interaction scripts use it directly, so what the tests see is the order that
 * ships.
 *
 * It awaits nothing: it is a small state machine whose only asynchronous step, the durable
 * write, is a call that reports back through `done`. A browser's IndexedDB write reports from a
 * promise, the simulator's from virtual time, the golden harness at once. That is what lets the
 * deterministic simulator run the production path event by event.
 *
 * Per Ready:
 *   1. apply the committed entries already durable here (`appliedBeforeWrite`), and send what
 *      may leave before the write (`messagesBeforeWrite`);
 *   2. persist (`host.persist`), and wait for `done` (unless nothing needs persisting);
 *   3. send the rest, restore a snapshot from the leader, apply the rest, hand over the read
 *      states; `advance()`;
 *   4. `host.afterAdvance` (the snapshot policy may write a snapshot), then the next Ready.
 *
 * While a write is in flight, an engine that has `readyWhileWriting` is asked after every pump
 * for what may be done before the write is durable (Raft: committed entries already durable
 * here; src/core/raft/ready-while-writing.ts): a Ready that needs no write, whose messages are
 * sent and items applied at once, with no `advance()`. Without it a committed command waited
 * for a write it does not depend on before a replica applied it.
 *
 * `hold()` keeps step 3 waiting after the write is durable (a paused node: its write completes,
 * its CPU does not run) until `release()`. A failed write or a throw from the host stops the
 * loop for good (`host.fail`); the node restarts from what is durable.
 *
 * The loop is written once for every engine of the contract (`ReadyLoop`): what a Ready's
 * "items to apply" are is the engine's (Raft: committed entries; gossip: events for the page),
 * and so is the work between the write and the items after it (`afterWrite`: Raft restores a
 * leader's snapshot there). `RaftReadyLoop` is the Raft engine's, the gossip host
 * (gossip-host.ts) runs the gossip engine's through the same class.
 */
import type { EngineReady } from '../core/engine.ts';
import type { RaftNode } from '../core/raft/raft-node.ts';
import type { Message } from '../core/raft/messages.ts';
import type { Entry, Ready, Snapshot } from '../core/raft/types.ts';

/** What the loop needs of an engine: the Ready half of the contract (src/core/engine.ts). */
export interface ReadyEngine<R> {
  hasReady(): boolean;
  ready(): R;
  advance(): void;
  /** While a Ready's write is in flight: work that need not wait for it (a Ready with no write), or null. */
  readyWhileWriting?(): R | null;
}

/** An engine's host, as the generic loop calls it (see `RaftReadyHost` for the Raft one). */
export interface ReadyHost<R, M, A> {
  onReady?(rd: R): void;
  /** Begin the durable write of `rd`; call `done` once it is durable, or `failed`. */
  persist(rd: R, done: () => void, failed: (error: unknown) => void): void;
  send(m: M): void;
  /** The Ready's items to apply, in order; the first `appliedBeforeWrite` go before the write. */
  items(rd: R): readonly A[];
  /** Once the write is durable and `messagesAfterWrite` are sent, before the rest of the items. */
  afterWrite?(rd: R): void;
  apply(item: A): void;
  /** After every item of `rd` is applied. */
  applied(rd: R): void;
  /** After `advance()`: more work may begin; call `next` when the loop may go on. */
  afterAdvance(rd: R, next: () => void): void;
  fail(error: unknown): void;
}

export interface RaftReadyHost {
  /** A Ready was taken (observers: metrics, the simulator's checkers, traces). */
  onReady?(rd: Ready): void;
  /** Begin the durable write of `rd`; call `done` once it is durable, or `failed`. */
  persist(rd: Ready, done: () => void, failed: (error: unknown) => void): void;
  send(m: Message): void;
  /** The state machine becomes the leader's snapshot (after it is durable, before later entries). */
  restore(snapshot: Snapshot): void;
  /** Apply one committed entry. */
  apply(entry: Entry): void;
  /** After the entries of `rd` are applied: its read states and dropped reads, anything else. */
  applied(rd: Ready): void;
  /** After `advance()`: more work may begin (a snapshot write); call `next` when the loop may go on. */
  afterAdvance(rd: Ready, next: () => void): void;
  /** The loop stopped: a write failed or the host threw. */
  fail(error: unknown): void;
}

export class ReadyLoop<R extends EngineReady<M>, M, A> {
  /** A Ready is being handled (from `ready()` to the end of `afterAdvance`). */
  private busy = false;
  private stopped = false;
  private holding = false;
  /** The second half of a Ready whose write is durable, waiting for `release`. */
  private held: (() => void) | null = null;
  /** The Ready whose write is in flight, if any. */
  private writing: R | null = null;
  /** Work of `readyWhileWriting` is being handled (never nested: its items apply in order). */
  private early = false;

  constructor(
    private readonly engine: ReadyEngine<R>,
    private readonly host: ReadyHost<R, M, A>,
  ) {}

  /** Handle Readies until the engine has none, or one waits on its write. */
  pump(): void {
    try {
      while (!this.busy && !this.stopped && !this.holding && this.engine.hasReady()) this.handle(this.engine.ready());
      if (this.writing !== null && !this.holding && !this.stopped && !this.early) this.handleWhileWriting();
    } catch (error) {
      this.fail(error);
    }
  }

  /** The Ready whose write is in flight (null when none). */
  get inFlight(): R | null {
    return this.writing;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Keep what follows a durable write waiting (the node is paused). */
  hold(): void {
    this.holding = true;
  }

  /** Carry on: finish a Ready whose write became durable meanwhile, then pump. */
  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = null;
    if (held !== null) this.guard(held);
    this.pump();
  }

  /** Stop for good: nothing more is sent, applied or written (a crash, or the node closing). */
  stop(): void {
    this.stopped = true;
    this.held = null;
  }

  private handle(rd: R): void {
    this.busy = true;
    this.host.onReady?.(rd);
    const items = this.host.items(rd);
    for (let i = 0; i < rd.appliedBeforeWrite; i++) this.host.apply(items[i] as A);
    for (const m of rd.messagesBeforeWrite) this.host.send(m);
    if (!rd.mustPersist) {
      this.finish(rd);
      return;
    }
    this.writing = rd;
    this.host.persist(
      rd,
      () => this.durable(rd),
      (error) => this.fail(error),
    );
  }

  /** What the engine lets go before the write in flight is durable: send and apply at once. */
  private handleWhileWriting(): void {
    const rd = this.engine.readyWhileWriting?.() ?? null;
    if (rd === null) return;
    this.early = true;
    try {
      this.host.onReady?.(rd);
      for (const m of rd.messagesBeforeWrite) this.host.send(m);
      for (const item of this.host.items(rd)) this.host.apply(item);
      this.host.applied(rd);
    } finally {
      this.early = false;
    }
  }

  private durable(rd: R): void {
    if (this.stopped || this.writing !== rd) return;
    this.writing = null;
    if (this.holding) this.held = () => this.finish(rd);
    else this.guard(() => this.finish(rd));
  }

  private finish(rd: R): void {
    for (const m of rd.messagesAfterWrite) this.host.send(m);
    this.host.afterWrite?.(rd);
    const items = this.host.items(rd);
    for (let i = rd.appliedBeforeWrite; i < items.length; i++) this.host.apply(items[i] as A);
    this.host.applied(rd);
    this.engine.advance();
    this.host.afterAdvance(rd, () => {
      if (this.stopped) return;
      this.busy = false;
      this.pump();
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.writing = null;
    this.host.fail(error);
  }
}

/** THE Ready processor for a Raft engine: items are committed entries, a snapshot restored after the write. */
export class RaftReadyLoop extends ReadyLoop<Ready, Message, Entry> {
  constructor(engine: RaftNode, host: RaftReadyHost) {
    super(engine, {
      ...(host.onReady === undefined ? {} : { onReady: (rd: Ready) => host.onReady?.(rd) }),
      persist: (rd, done, failed) => host.persist(rd, done, failed),
      send: (m) => host.send(m),
      items: (rd) => rd.committedEntries,
      afterWrite: (rd) => {
        if (rd.snapshot !== null) host.restore(rd.snapshot);
      },
      apply: (entry) => host.apply(entry),
      applied: (rd) => host.applied(rd),
      afterAdvance: (rd, next) => host.afterAdvance(rd, next),
      fail: (error) => host.fail(error),
    });
  }
}
