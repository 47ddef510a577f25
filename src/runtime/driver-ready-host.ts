/**
 * What the driver (driver.ts) does with each part of a Ready, as THE Ready processor
 * (ready-loop.ts) hands it over: persist through the write sink, send through the transport,
 * restore a snapshot from the leader into the state machine, apply committed entries through the
 * session layer (answering the node's own callers), hand read states to the read tracker, and,
 * after `advance()`, the snapshot policy.
 */
import type { Message } from '../core/raft/messages.ts';
import type { RaftNode } from '../core/raft/raft-node.ts';
import type { Entry } from '../core/raft/types.ts';
import type { SessionMachine } from '../machines/sessions.ts';
import { emptyWrite, writeForReady } from '../io/storage/storage.ts';
import type { Clock } from './clock.ts';
import type { DriverMetrics, DriverObserver, WriteSink } from './driver-options.ts';
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

/** The snapshot policy: snapshot the machine, compact, and write it before the next Ready. */
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
      next();
    },
    (e) => d.fail(e),
  );
}

function apply(d: ReadyHostContext, e: Entry): void {
  d.metrics.entriesApplied++;
  if (e.kind !== 'normal') {
    d.observer.onApplied?.(e, null, null);
    return;
  }
  const { outcome, command } = d.machine.applyAndDecode(e.data, e.index);
  if (outcome.status === 'rejected') d.metrics.commandsRejected++;
  d.observer.onApplied?.(e, command, outcome);
  d.proposals()?.onApplied(command, outcome, e.index);
}
