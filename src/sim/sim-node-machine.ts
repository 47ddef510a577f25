/**
 * The replicated state machine of one simulated Raft node (sim-node.ts): a KV machine behind
 * client sessions (`SessionMachine` wrapping `KvMachine`), the applied index, and the two ways
 * it moves: applying a committed entry, and installing a snapshot from the leader; and taking a
 * snapshot of it when the engine's policy asks. The driver loop decides WHEN (after a Ready's
 * write is durable, or earlier for entries already durable) and does the storage writes; this
 * file is WHAT applying and snapshotting mean, and what the checkers observe of them.
 *
 * Observations for the checkers, beyond the Raft ones: for every applied entry, whether the
 * INNER (KV) machine ran and for which (session, seq) (exactly-once), and (by the driver) a
 * digest of the whole state machine after each applied batch, after a snapshot install and at
 * boot (state machine safety across snapshot jumps).
 */
import { assert } from '../core/assert.ts';
import type { RaftNode } from '../core/raft/raft-node.ts';
import type { Entry, NodeId, Snapshot } from '../core/raft/types.ts';
import { fnv1a64Hex } from '../machines/bytes.ts';
import { KvMachine } from '../machines/kv.ts';
import { decodeSessionCommand, SessionMachine, type SessionOptions, type SessionOutcome } from '../machines/sessions.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import type { RaftCheckers } from './checkers/raft-checkers.ts';
import type { SimStorageWrite } from './memory-storage.ts';
import type { Scheduler } from './scheduler.ts';
import type { RequestService } from './sim-node-requests.ts';
import type { Sabotage } from './sim-node-sabotage.ts';
import type { SimNodeStats } from './sim-node-stats.ts';

export interface NodeMachineOptions {
  readonly id: NodeId;
  /** The session layer's expiry settings. */
  readonly session: Partial<SessionOptions> | undefined;
  readonly scheduler: Scheduler;
  readonly checkers: RaftCheckers;
  /** The node's counters (shared with the rest of the node). */
  readonly stats: SimNodeStats;
  /** Answers the clients whose commands are applied. */
  readonly requests: RequestService;
  /** Called for every committed configuration entry applied. */
  readonly onConfigApplied: (entry: Entry) => void;
  readonly sabotaged: (bug: Sabotage) => boolean;
  readonly note: (what: string) => void;
}

/** The KV machine under the session layer, noting whether a command reached it. */
class RecordingMachine implements StateMachine {
  ran = false;
  constructor(readonly kv: KvMachine) {}

  apply(command: Uint8Array, index: number): Uint8Array {
    this.ran = true;
    return this.kv.apply(command, index);
  }

  snapshot(): Uint8Array {
    return this.kv.snapshot();
  }

  restore(snapshot: Uint8Array): void {
    this.kv.restore(snapshot);
  }
}

export class NodeMachine {
  private inner = new RecordingMachine(new KvMachine());
  private machine: SessionMachine;
  private appliedIndexValue = 0;

  constructor(private readonly o: NodeMachineOptions) {
    this.machine = new SessionMachine(this.inner, o.session);
  }

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** A hash of the whole state machine (sessions and KV data): equal on converged replicas. */
  digest(): string {
    return fnv1a64Hex(this.machine.snapshot());
  }

  /** The value of `key` in the KV machine now (not a linearizable read by itself). */
  read(key: string): string | null {
    return this.inner.kv.read(key);
  }

  /** The session layer's counters (duplicates absorbed, commands refused as expired, ...). */
  sessionStats(): Readonly<SessionMachine['stats']> {
    return this.machine.stats;
  }

  /**
   * The engine's snapshot policy: when it says so, snapshot the state machine at the applied
   * index and compact the engine's log behind it. Returns what to write to storage, or null.
   */
  snapshotIfDue(raft: RaftNode): SimStorageWrite | null {
    if (!raft.shouldSnapshot()) return null;
    const index = this.appliedIndexValue;
    // The engine and this driver agree on the applied index: the engine moves it to a leader's
    // snapshot only when a Ready hands that snapshot over (an engine bug the simulator found).
    if (raft.status().applied !== index) throw new Error(`applied ${index}, the engine says ${raft.status().applied}`);
    const data = this.machine.snapshot();
    const { snapshot, compactTo, hardState } = raft.compact(index, data);
    this.o.stats.snapshotsTaken++;
    this.o.checkers.onState(this.o.id, index, fnv1a64Hex(data), this.o.scheduler.nowUs);
    this.o.note(`snapshot at ${index} (${data.byteLength} bytes), compact to ${compactTo}`);
    return { hardState, snapshot, compactTo };
  }

  /** A crash: the state machine is volatile and gone. */
  reset(): void {
    this.inner = new RecordingMachine(new KvMachine());
    this.machine = new SessionMachine(this.inner, this.o.session);
    this.appliedIndexValue = 0;
  }

  /** Boot from the stored snapshot, or empty; the log after it is replayed by the engine. */
  boot(snap: Snapshot | null): void {
    this.reset();
    if (snap !== null) this.machine.restore(snap.data);
    this.appliedIndexValue = snap === null ? 0 : snap.meta.index;
  }

  /** A snapshot installed from the leader is durable: the state machine becomes its state. */
  installSnapshot(snap: Snapshot): void {
    const index = snap.meta.index;
    assert(index > this.appliedIndexValue, `${this.o.id} installs a snapshot at ${index} behind its applied index ${this.appliedIndexValue}`);
    this.machine.restore(snap.data);
    this.appliedIndexValue = index;
    this.o.stats.snapshotsInstalled++;
    this.o.checkers.onSnapshotInstalled(this.o.id, index, this.digest(), this.o.scheduler.nowUs);
    this.o.note(`installed a snapshot at (${index}, ${snap.meta.term}), ${snap.data.byteLength} bytes`);
    this.o.requests.forgetCoveredBy(index);
  }

  applyEntry(e: Entry): void {
    const now = this.o.scheduler.nowUs;
    this.o.checkers.onApplied(this.o.id, e, now);
    this.appliedIndexValue = e.index;
    this.o.stats.applied++;
    this.o.requests.supersedeAt(e);
    if (e.kind === 'config') this.o.onConfigApplied(e);
    if (e.kind !== 'normal') {
      this.o.checkers.onInnerApplied(this.o.id, e.index, null, now);
      return;
    }
    const decoded = decodeSessionCommand(e.data);
    const command = decoded.ok ? decoded.value : null;
    this.inner.ran = false;
    let outcome: SessionOutcome;
    if (command?.type === 'request' && this.o.sabotaged('bypass-sessions')) {
      // The broken driver: straight to the KV machine, duplicates and all.
      outcome = { status: 'applied', result: this.inner.apply(command.payload, e.index) };
    } else {
      // Undecodable bytes are refused by the session layer as `malformed` (nothing applied).
      outcome = this.machine.applyCommand(e.data, e.index);
    }
    const ran = this.inner.ran && command?.type === 'request' ? { session: command.clientId, seq: command.seq } : null;
    this.o.checkers.onInnerApplied(this.o.id, e.index, ran, now);
    if (outcome.status === 'duplicate') this.o.stats.duplicateCommands++;
    else if (outcome.status === 'stale') this.o.stats.staleCommands++;
    else if (outcome.status === 'expired') this.o.stats.expiredCommands++;
    else if (outcome.status === 'registered') this.o.stats.registrations++;
    if (command === null) return;
    this.o.requests.commandApplied(command, outcome);
  }
}
