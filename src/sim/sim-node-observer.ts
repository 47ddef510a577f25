/**
 * What the checkers see of a simulated node: the production driver's observer hooks
 * (`DriverObserver`, src/runtime/driver.ts) turned into checker observations. The simulator
 * never looks inside the engine: it sees each Ready as it is taken, each message stepped and
 * sent, each entry applied (and whether the application machine ran for it), each snapshot, and
 * the node's public status after every input; that is enough for every property it checks.
 */
import type { Message } from '../core/raft/messages.ts';
import type { Entry, NodeId, Ready, Role } from '../core/raft/types.ts';
import { fnv1a64Hex } from '../machines/bytes.ts';
import type { SessionCommand, SessionOutcome } from '../machines/sessions.ts';
import type { Driver, DriverObserver } from '../runtime/driver.ts';
import type { RaftCheckers } from './checkers/raft-checkers.ts';
import type { MemoryStorage } from './memory-storage.ts';
import type { RecordingMachine } from './recording-machine.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimNode } from './sim-node.ts';
import type { SimNodeStats } from './sim-node-stats.ts';

export interface NodeObserverOptions {
  readonly node: SimNode;
  readonly checkers: RaftCheckers;
  readonly scheduler: Scheduler;
  readonly stats: SimNodeStats;
  readonly machine: RecordingMachine;
  /** The node's running driver (null between its lives). */
  readonly driver: () => Driver | null;
  readonly storage: MemoryStorage;
  readonly onRole: ((node: SimNode, role: Role, term: number) => void) | undefined;
  readonly onLeaderCommit: ((node: SimNode, term: number, commit: number) => void) | undefined;
  readonly onConfigApplied: ((node: SimNode, entry: Entry) => void) | undefined;
  readonly onFrameAccepted: ((frame: Uint8Array) => void) | undefined;
  /** A narrative line for a seed's trace; `tracing` says whether anyone reads it. */
  readonly note: (what: string) => void;
  readonly tracing: boolean;
}

export class NodeObserver implements DriverObserver {
  private readonly id: NodeId;
  private lastRole: Role | null = null;
  private lastTerm = -1;
  private leaderCommit = 0;
  private applications = 0;
  /** Entries were applied since the state machine's digest was last reported. */
  private appliedSinceDigest = false;
  /** The last index the state machine applied or restored (the core's `applied` runs ahead: it moves when a Ready is taken). */
  machineIndex: number;
  /** The last Ready taken with a write: its entries are durable, or in the write in flight. */
  private lastReady: Ready | null = null;

  constructor(
    private readonly o: NodeObserverOptions,
    bootIndex: number,
  ) {
    this.id = o.node.id;
    this.machineIndex = bootIndex;
  }

  private get now(): number {
    return this.o.scheduler.nowUs;
  }

  /** Role, term and commit are looked at after every step (cheaply); the full status only when one moved. */
  onProgress(): void {
    const d = this.o.driver();
    if (d === null) return;
    const role = d.role();
    if (role !== this.lastRole || d.term() !== this.lastTerm || (role === 'leader' && d.commitIndex() > this.leaderCommit)) this.changed();
  }

  onReady(rd: Ready): void {
    this.o.stats.readies++;
    // Taken while a write is in flight (readyWhileWriting): it writes nothing, and what lands on
    // storage next is still the write in flight's.
    const early = this.o.driver()?.writing === true;
    if (!early) this.lastReady = rd;
    this.onProgress();
    const pending = early && this.lastReady !== null ? { ...rd, snapshot: this.lastReady.snapshot, entries: this.lastReady.entries } : rd;
    this.o.checkers.onReady(this.id, pending, this.o.storage, this.now);
    if (this.o.tracing) this.o.note(`ready: ${describeReady(rd)}`);
  }

  onAppliedReady(): void {
    if (!this.appliedSinceDigest) return;
    this.appliedSinceDigest = false;
    this.o.checkers.onState(this.id, this.machineIndex, this.o.node.digest(), this.now);
  }

  onStep(m: Message): void {
    this.o.checkers.onStepped(this.id, m);
    const frame = this.o.node.deliveringFrame;
    if (frame !== null) this.o.onFrameAccepted?.(frame);
  }

  onSend(m: Message): void {
    this.o.checkers.onSent(this.id, m, this.now);
  }

  onApplied(entry: Entry, command: SessionCommand | null, outcome: SessionOutcome | null): void {
    const now = this.now;
    this.o.stats.applied++;
    this.appliedSinceDigest = true;
    this.machineIndex = entry.index;
    this.o.checkers.onApplied(this.id, entry, now);
    if (entry.kind === 'config') this.later(() => this.o.onConfigApplied?.(this.o.node, entry));
    // Did the session layer let the command through to the application machine?
    const ran = this.o.machine.applications !== this.applications;
    this.applications = this.o.machine.applications;
    const by = ran && command?.type === 'request' ? { session: command.clientId, seq: command.seq } : null;
    this.o.checkers.onInnerApplied(this.id, entry.index, by, now);
    if (outcome?.status === 'duplicate') this.o.stats.duplicateCommands++;
    else if (outcome?.status === 'stale') this.o.stats.staleCommands++;
    else if (outcome?.status === 'expired') this.o.stats.expiredCommands++;
    else if (outcome?.status === 'registered') this.o.stats.registrations++;
  }

  onRestored(index: number): void {
    this.o.stats.snapshotsInstalled++;
    this.appliedSinceDigest = false;
    this.machineIndex = index;
    this.o.checkers.onSnapshotInstalled(this.id, index, this.o.node.digest(), this.now);
    this.o.note(`installed a snapshot at ${index}`);
  }

  onSnapshot(index: number, data: Uint8Array): void {
    this.o.stats.snapshotsTaken++;
    this.o.checkers.onState(this.id, index, fnv1a64Hex(data), this.now);
    this.o.note(`snapshot at ${index} (${data.byteLength} bytes)`);
  }

  /** The node's status may have changed: tell the checkers and the nemesis. */
  changed(): void {
    const node = this.o.node;
    const s = node.status();
    if (s === null) return;
    const now = this.now;
    const voters = s.role === 'leader' ? (node.config()?.voters ?? []) : [];
    this.o.checkers.onStatus(this.id, s.role, s.term, voters, now);
    if (s.role === 'leader' && s.commit > this.leaderCommit) {
      this.leaderCommit = s.commit;
      const rd = this.lastReady;
      this.o.checkers.onLeaderCommit(this.id, s.term, s.commit, voters, this.o.storage, { snapshot: rd?.snapshot ?? null, entries: rd?.entries ?? [] }, now);
      const { term, commit } = s;
      this.later(() => this.o.onLeaderCommit?.(node, term, commit));
    }
    if (s.role !== this.lastRole || s.term !== this.lastTerm) {
      this.lastRole = s.role;
      this.lastTerm = s.term;
      this.o.note(`${s.role} in term ${s.term} (leader ${s.leader ?? 'unknown'}, last ${s.lastIndex}, commit ${s.commit})`);
      const { role, term } = s;
      this.later(() => this.o.onRole?.(node, role, term));
    }
  }

  /**
   * The nemesis and the operator hear of roles, commits and configurations as the next event at
   * the same virtual time, not inside the driver's call: a crash they decide on must not pull
   * the driver down in the middle of its own Ready.
   */
  private later(fn: () => void): void {
    this.o.scheduler.after(0, fn);
  }
}

function describeReady(rd: Ready): string {
  const range = (es: readonly Entry[]): string => (es.length === 0 ? '-' : `${(es[0] as Entry).index}..${(es[es.length - 1] as Entry).index}`);
  const hs = rd.hardState === null ? '' : `hard state (${rd.hardState.term}, ${rd.hardState.vote ?? '-'}, ${rd.hardState.commit}), `;
  const snap = rd.snapshot === null ? '' : `snapshot (${rd.snapshot.meta.index}, ${rd.snapshot.meta.term}), `;
  return `${hs}${snap}entries ${range(rd.entries)}, apply ${range(rd.committedEntries)}, ${rd.messages.length} messages`;
}
