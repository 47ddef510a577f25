/**
 * What the driver (driver.ts) does with each part of a Ready, as THE Ready processor
 * (ready-loop.ts) hands it over: persist through the write sink, send through the transport,
 * restore a snapshot from the leader into the state machine, apply committed entries through the
 * session layer (answering the node's own callers), hand read states to the read tracker, and,
 * after `advance()`, the snapshot policy.
 *
 * A snapshot from the leader is restored into a SCRATCH machine as soon as it has arrived whole,
 * before it changes anything (`snapshotRefusal`, the core's `checkSnapshot`). Installed first, a
 * snapshot this node's machine cannot restore (junk from a peer, or a machine of another
 * version) stopped the node, and stopped it again on every boot, since a boot restores what is
 * stored: the node was lost for good. Now it is refused and counted (`snapshotsRefused`), the
 * node keeps its state and goes on, and the leader sends its snapshot again later.
 */
import type { Message } from '../core/raft/messages.ts';
import type { RaftNode } from '../core/raft/raft-node.ts';
import type { Entry, Snapshot } from '../core/raft/types.ts';
import { SessionMachine } from '../machines/sessions.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import { emptyWrite, writeForReady } from '../io/storage/storage.ts';
import type { Clock } from './clock.ts';
import type { DriverMetrics, DriverObserver, DriverOptions, WriteSink } from './driver-options.ts';
import type { ProposalTracker } from './proposals.ts';
import type { RaftReadyHost } from './ready-loop.ts';
import type { ReadTracker } from './reads.ts';

/** What the host needs of the driver. */
export interface ReadyHostContext {
  readonly metrics: DriverMetrics;
  readonly observer: DriverObserver;
  readonly writes: WriteSink;
  readonly clock: Clock;
  readonly machine: SessionMachine;
  readonly reads: () => ReadTracker | null;
  readonly proposals: () => ProposalTracker | null;
  /** The state machine now reflects every entry up to `index` (the driver's `applied`). */
  appliedTo(index: number): void;
  send(m: Message): void;
  /** Emit role, leader and commit events, notice a new leader. */
  reportState(): void;
  /** Stop the node (a failed write). */
  fail(e: unknown): void;
}

export function driverReadyHost(node: RaftNode, d: ReadyHostContext): RaftReadyHost {
  return {
    onReady: (rd) => {
      d.metrics.readies++;
      d.observer.onReady?.(rd);
    },
    persist: (rd, done, failed) => {
      const t0 = d.clock.now();
      d.writes.write(
        writeForReady(rd),
        () => {
          d.metrics.storageWrites++;
          d.metrics.storageWriteMs += d.clock.now() - t0;
          d.metrics.entriesWritten += rd.entries.length;
          done();
        },
        failed,
      );
    },
    send: (m) => d.send(m),
    restore: (snapshot) => {
      d.machine.restore(snapshot.data);
      d.appliedTo(snapshot.meta.index);
      d.metrics.snapshotsInstalled++;
      d.observer.onRestored?.(snapshot.meta.index);
    },
    apply: (e) => apply(d, e),
    applied: (rd) => {
      d.reads()?.onReadStates(rd.readStates, rd.droppedReads);
      if (rd.snapshot !== null || rd.committedEntries.length > 0) d.reads()?.onApplied();
      d.reportState();
      d.observer.onAppliedReady?.(rd);
    },
    afterAdvance: (_rd, next) => {
      d.observer.onProgress?.();
      maybeSnapshot(node, d, next);
    },
    fail: (e) => d.fail(e),
  };
}

/**
 * Restore `snapshot` into a fresh machine wrapped in the session layer, as the node's own would
 * be: null when that works, else why not. Without a `createMachine` only the session layer's
 * envelope is parsed (the application's bytes are taken as they are). The node's own machine is
 * restored again once the snapshot is durable (`restore`): a second restore, the price of never
 * installing what cannot be restored.
 */
export function snapshotRefusal(scratch: Pick<DriverOptions, 'createMachine' | 'sessions'>, snapshot: Snapshot): string | null {
  const machine = new SessionMachine(scratch.createMachine?.() ?? envelopeOnly, scratch.sessions);
  try {
    machine.restore(snapshot.data);
    return null;
  } catch (e) {
    const cause = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const { index, term } = snapshot.meta;
    return `the leader's snapshot at index ${index} (term ${term}) cannot be restored by this node's state machine (${cause})`;
  }
}

/** The inner machine of an envelope-only check: takes any bytes. */
const envelopeOnly: StateMachine = {
  apply: () => {
    throw new Error('the envelope check machine applies nothing');
  },
  snapshot: () => new Uint8Array(0),
  restore: () => undefined,
};

/**
 * The snapshot policy: snapshot the machine, compact, and begin writing it; the next Ready
 * need not wait for that write. The write sink makes writes durable in the order begun
 * (`writesInOrder`), so the next Ready's own write lands after the snapshot's and its
 * after-write messages wait for both, while its before-write messages (a leader's heartbeats and
 * appends, dissertation §10.2.1) leave at once. Waiting here held a leader's heartbeats for as
 * long as IndexedDB took to store the snapshot (the browser benchmark: longer than an election
 * timeout under load, and every node snapshots at about the same index, so leaders were
 * deposed). What is sent meanwhile promises nothing the snapshot write could lose: the snapshot
 * covers applied, hence committed, entries, and a follower may be sent it before it is durable
 * here.
 */
function maybeSnapshot(node: RaftNode, d: ReadyHostContext, next: () => void): void {
  if (!node.shouldSnapshot()) {
    next();
    return;
  }
  const index = node.status().applied;
  const data = d.machine.snapshot();
  const { snapshot, compactTo, hardState } = node.compact(index, data);
  d.observer.onSnapshot?.(index, data);
  d.writes.write(
    { ...emptyWrite, hardState, snapshot, compactTo },
    () => {
      d.metrics.snapshotsTaken++;
    },
    (e) => d.fail(e),
  );
  next();
}

/**
 * Apply one committed entry. The applied index moves here, once the machine holds the entry and
 * before anyone is told (observers, the proposal's caller), never when the core hands the entry
 * out: entries handed out with a Ready wait for its write (ready-loop.ts), and an `applied` read
 * meanwhile promised a local read state the machine did not have yet.
 */
function apply(d: ReadyHostContext, e: Entry): void {
  d.metrics.entriesApplied++;
  if (e.kind !== 'normal') {
    d.appliedTo(e.index);
    d.observer.onApplied?.(e, null, null);
    return;
  }
  const { outcome, command } = d.machine.applyAndDecode(e.data, e.index, e.term);
  d.appliedTo(e.index);
  if (outcome.status === 'rejected') d.metrics.commandsRejected++;
  d.observer.onApplied?.(e, command, outcome);
  d.proposals()?.onApplied(command, outcome, e.index);
}
