/**
 * The in-memory cluster the interaction harness (harness.ts) drives: one slot per node (its
 * `RaftNode`, durable storage, state machine and client sessions), a manual network of FIFO
 * queues with partitions, and the safety checks that abort a script.
 *
 * This is the driver the `Ready` contract talks about: a node's Readies go through THE Ready
 * processor production uses (src/runtime/ready-loop.ts), with storage that is durable at once,
 * sends that land in the destination's queue (or are dropped by a partition or a crash), and a
 * state machine that keeps the list of commands applied. Everything it does is printed to `out`,
 * the transcript lines of the command being run. Nodes and queues are visited in numeric id
 * order, so the output is deterministic.
 */
import type { Message } from '../../src/core/raft/messages.ts';
import { createPrng } from '../../src/core/prng.ts';
import type { RaftConfig } from '../../src/core/raft/config.ts';
import { RaftNode } from '../../src/core/raft/raft-node.ts';
import { emptyHardState, type BootState, type Entry, type HardState, type NodeId, type Ready, type Role, type Snapshot } from '../../src/core/raft/types.ts';
import { SessionMachine, sessionCommandVersion } from '../../src/machines/sessions.ts';
import { RaftReadyLoop } from '../../src/runtime/ready-loop.ts';
import { encodeCommands, entryText, formatApplied, formatConf, formatEntries, formatMessage, sortIds, textDecoder, textEncoder } from './harness-format.ts';
import { HarnessError, readiesPerNodeMax, stabilizeRoundsMax, type RaftOptions } from './harness-options.ts';

export interface Storage {
  hardState: HardState;
  entries: Entry[];
  snapshot: Snapshot | null;
}

export interface Slot {
  readonly id: NodeId;
  readonly config: Omit<RaftConfig, 'prng'>;
  node: RaftNode | null;
  readonly storage: Storage;
  incarnation: number;
  /** The last index this node's state machine applied (reset by a restart). */
  applied: number;
  /**
   * The state machine: the commands applied, each with the index it was applied at (commands
   * restored from a snapshot carry the snapshot's index, which is all a snapshot knows).
   */
  commands: AppliedCommand[];
  /**
   * Client sessions over the command list: session commands (first byte 1, never printable
   * text) go through it, so a duplicate is answered from its cache and not applied again. Kept
   * out of snapshots: session scripts do not compact.
   */
  sessions: SessionMachine;
}

interface AppliedCommand {
  readonly index: number;
  readonly text: string;
}

/** What some node applied at an index: the entry (for safety checks) and its command, if any. */
interface AppliedRecord {
  readonly key: string;
  readonly command: string | null;
}

export class Cluster {
  readonly slots = new Map<NodeId, Slot>();
  readonly queues = new Map<NodeId, Message[]>();
  /** Partition groups: two nodes talk only when in the same group. Null: fully connected. */
  groups: Map<NodeId, number> | null = null;
  seed = 1;
  /** The cluster's Raft options (from `add-nodes`), which `add-node` inherits. */
  clusterOptions: RaftOptions = {};
  /** Message types whose sends are counted but not printed. */
  readonly hidden = new Set<string>();
  /** Hidden sends counted since the current `stabilize` or `run` began. */
  hiddenCount = new Map<string, number>();
  /** Message counts by type since `reset-counts` (rejections counted apart). */
  counts = new Map<string, number>();
  /** Safety: the leader of each term, and the entry applied at each index. */
  readonly leaders = new Map<number, NodeId>();
  readonly appliedAt = new Map<number, AppliedRecord>();
  /** Linearizability of reads: the highest commit index anywhere when each read began. */
  readonly readFloors = new Map<string, { floor: number; lease: boolean }>();
  clocksDiverged = false;
  out: string[] = [];

  createSlot(id: NodeId, config: Omit<RaftConfig, 'prng'>): void {
    const storage: Storage = { hardState: emptyHardState, entries: [], snapshot: null };
    this.slots.set(id, { id, config, node: null, storage, incarnation: 0, applied: 0, commands: [], sessions: null as unknown as SessionMachine });
    this.resetSessions(this.slot(id));
    this.boot(this.slot(id));
  }

  /** Boot a node from its storage: the snapshot (state machine restored from it) and the tail. */
  boot(slot: Slot): void {
    const prng = createPrng(this.seed * 1_000_003 + Number(slot.id) * 1009 + slot.incarnation);
    const s = slot.storage;
    const base = s.snapshot?.meta.index ?? 0;
    // Storage may hold entries behind its snapshot (`snapshotTrailingEntries`); the core boots
    // from the snapshot and the entries after it.
    const boot: BootState = { hardState: s.hardState, snapshot: s.snapshot, entries: s.entries.filter((e) => e.index > base) };
    slot.node = new RaftNode({ ...slot.config, prng }, boot);
    this.restoreStateMachine(slot, s.snapshot);
  }

  /** The state machine becomes the snapshot's (or empty), checked against what nodes applied. */
  private restoreStateMachine(slot: Slot, snapshot: Snapshot | null): void {
    slot.applied = snapshot?.meta.index ?? 0;
    slot.commands = [];
    this.resetSessions(slot);
    if (snapshot === null) return;
    const index = snapshot.meta.index;
    const text = textDecoder.decode(snapshot.data);
    const commands = text === '' ? [] : text.slice(0, -1).split('\n');
    slot.commands = commands.map((c) => ({ index, text: c }));
    // State machine safety through snapshots: the snapshot holds exactly the commands applied
    // at indices 1..index (every index was applied by the node that took the snapshot).
    const expected: string[] = [];
    for (let i = 1; i <= index; i++) {
      const rec = this.appliedAt.get(i);
      if (rec === undefined) throw new HarnessError(`${slot.id} restored a snapshot at ${index}, but no node applied ${i}`);
      if (rec.command !== null) expected.push(rec.command);
    }
    if (expected.join('\n') !== commands.join('\n') || expected.length !== commands.length) {
      throw new HarnessError(`state machine safety: ${slot.id} restored a snapshot at ${index} that differs from the applied commands`);
    }
  }

  /** Run `f` and print every role or term change it caused, per node. */
  withChanges(f: () => void, label = ''): void {
    const before = this.snapshotRoles();
    f();
    this.printChanges(before, label);
  }

  private snapshotRoles(): Map<NodeId, { role: Role; term: number; leader: NodeId | null }> {
    const m = new Map<NodeId, { role: Role; term: number; leader: NodeId | null }>();
    for (const id of this.liveIds()) {
      const s = this.live(id).status();
      m.set(id, { role: s.role, term: s.term, leader: s.leader });
    }
    return m;
  }

  private printChanges(before: Map<NodeId, { role: Role; term: number; leader: NodeId | null }>, label: string): void {
    for (const [id, b] of before) {
      const s = this.live(id).status();
      if (s.role !== b.role || s.term !== b.term) {
        this.out.push(`${label}${id}: ${b.role} term=${b.term} -> ${s.role} term=${s.term}`);
      }
    }
  }

  printHidden(): void {
    if (this.hiddenCount.size === 0) return;
    const parts = [...this.hiddenCount].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]) => `${n} ${t}`);
    this.out.push(`(not shown: ${parts.join(', ')})`);
  }

  /** Deliver every queued message addressed to one of `ids`, in FIFO order per destination. */
  deliver(ids: NodeId[], print: boolean): number {
    let delivered = 0;
    for (const to of sortIds(ids)) {
      const queue = this.queues.get(to);
      if (queue === undefined || queue.length === 0) continue;
      this.queues.set(to, []);
      const node = this.slot(to).node;
      for (const m of queue) {
        if (print) this.out.push(`deliver ${formatMessage(m)}`);
        if (node === null) continue;
        node.step(m);
        delivered++;
      }
    }
    return delivered;
  }

  stabilize(only: Set<NodeId> | null): void {
    const included = (id: NodeId): boolean => only === null || only.has(id);
    for (let round = 0; ; round++) {
      if (round >= stabilizeRoundsMax) throw new HarnessError('stabilize did not settle');
      let busy = false;
      for (const id of this.liveIds().filter(included)) {
        if (this.live(id).hasReady()) {
          this.handleReadies(this.slot(id));
          busy = true;
        }
      }
      if (this.deliver(this.liveIds().filter(included), false) > 0) busy = true;
      if (!busy) break;
    }
  }

  maxCommit(): number {
    return Math.max(0, ...this.liveIds().map((id) => this.live(id).status().commit));
  }

  /** A read answered below what was committed when it began is a stale read. */
  private checkRead(id: NodeId, requestId: number, index: number | null): void {
    const key = `${id}/${requestId}`;
    const pending = this.readFloors.get(key);
    this.readFloors.delete(key);
    if (pending === undefined || index === null) return;
    // A lease read is only as good as the clocks: `tick ID` lets one node's clock run apart
    // from the others', beyond any drift bound, so lease reads are checked only without it.
    if (pending.lease && this.clocksDiverged) return;
    if (index < pending.floor) {
      throw new HarnessError(`linearizability: read ${requestId} on ${id} answered at ${index}, but ${pending.floor} was committed when it began`);
    }
  }

  /** Take the state machine's snapshot at `index`, give it to the core, store what it says. */
  compactNode(slot: Slot, index: number): string {
    const commands = slot.commands.filter((c) => c.index <= index).map((c) => c.text);
    const data = encodeCommands(commands);
    const node = slot.node as RaftNode;
    const { snapshot, compactTo, hardState } = node.compact(index, data);
    if (hardState !== null) slot.storage.hardState = hardState;
    slot.storage.snapshot = snapshot;
    slot.storage.entries = slot.storage.entries.filter((e) => e.index > compactTo);
    const { meta } = snapshot;
    return (
      `snapshot ${meta.index}@${meta.term} (${data.byteLength} bytes, ${commands.length} commands, ${formatConf(meta.config)}); ` +
      `entries up to ${compactTo} dropped, ${node.logSize()} left in memory`
    );
  }

  // ---- the driver: one Ready ----------------------------------------------------------------

  /**
   * Handle the node's Readies through THE Ready processor (src/runtime/ready-loop.ts), the one
   * production and the simulator use, with a host that persists at once (the write is durable
   * when `persist` returns) and prints what it does, in the order the processor does it: apply
   * what is already durable, send what may leave before the write, persist, send the rest,
   * restore a snapshot, apply the rest, the reads, then the snapshot policy after `advance()`.
   */
  handleReadies(slot: Slot): void {
    const node = slot.node as RaftNode;
    let lines: string[] = [];
    let applying: Entry[] = [];
    let readies = 0;
    let failure: unknown = null;
    const flushApplied = (): void => {
      if (applying.length === 0) return;
      lines.push(`  apply: ${formatApplied(applying)}`, ...this.sessionLines.splice(0));
      applying = [];
    };
    const loop = new RaftReadyLoop(node, {
      onReady: (rd) => {
        if (++readies > readiesPerNodeMax) throw new HarnessError(`${slot.id} keeps producing Readies`);
        lines = [];
        if (rd.softState !== null) {
          const ss = rd.softState;
          lines.push(`  state: ${ss.role} term=${ss.term} leader=${ss.leader ?? '-'}`);
          if (ss.role === 'leader') this.checkOneLeader(ss.term, slot.id);
        }
      },
      persist: (rd, done) => {
        flushApplied();
        this.persist(slot, rd, lines);
        done();
      },
      send: (m) => {
        flushApplied();
        lines.push(...this.send(m));
      },
      restore: (snapshot) => {
        this.restoreStateMachine(slot, snapshot);
        lines.push(`  restore state machine: ${slot.commands.length} commands at ${snapshot.meta.index}@${snapshot.meta.term}`);
      },
      apply: (e) => {
        this.apply(slot, e);
        applying.push(e);
      },
      applied: (rd) => {
        flushApplied();
        for (const rs of rd.readStates) {
          lines.push(`  read ${rs.requestId} ready at index ${rs.index} (applied ${slot.applied})`);
          this.checkRead(slot.id, rs.requestId, rs.index);
        }
        for (const id of rd.droppedReads) {
          lines.push(`  read ${id} dropped`);
          this.checkRead(slot.id, id, null);
        }
      },
      afterAdvance: (_rd, next) => {
        // The snapshot policy (`snapshotevery=N`): asked after each Ready, once applied is durable.
        if (node.shouldSnapshot()) lines.push(`  ${this.compactNode(slot, slot.applied)}`);
        if (lines.length > 0) this.out.push(`> ${slot.id} handling Ready`, ...lines);
        lines = [];
        next();
      },
      fail: (error) => {
        failure = error;
      },
    });
    loop.pump();
    if (failure !== null) throw failure;
  }

  /** Persist a Ready (snapshot, hard state, entries) at once, printing what is written. */
  private persist(slot: Slot, rd: Ready, lines: string[]): void {
    if (rd.snapshot !== null) {
      // The snapshot replaces the whole stored log: the core dropped every entry it had too.
      const { meta, data } = rd.snapshot;
      slot.storage.snapshot = rd.snapshot;
      slot.storage.entries = [];
      lines.push(`  persist snapshot: ${meta.index}@${meta.term} (${data.byteLength} bytes, ${formatConf(meta.config)})`);
    }
    if (rd.hardState !== null) {
      const hs = rd.hardState;
      slot.storage.hardState = hs;
      lines.push(`  persist hard state: term=${hs.term} vote=${hs.vote ?? '-'} commit=${hs.commit}`);
    }
    if (rd.entries.length > 0) {
      this.persistEntries(slot, rd.entries);
      lines.push(`  persist entries: ${formatEntries(rd.entries)}`);
    }
  }

  /** Entries replace any stored entries at the same or higher indices (the Ready contract). */
  private persistEntries(slot: Slot, entries: readonly Entry[]): void {
    const stored = slot.storage.entries;
    const first = (entries[0] as Entry).index;
    const cut = stored.findIndex((e) => e.index >= first);
    if (cut >= 0) stored.length = cut;
    const prev = stored.length > 0 ? (stored[stored.length - 1] as Entry).index : (slot.storage.snapshot?.meta.index ?? 0);
    if (first !== prev + 1) throw new HarnessError(`${slot.id} storage: entries from ${first} do not continue ${prev}`);
    stored.push(...entries);
  }

  private send(m: Message): string[] {
    const type = m.type === 'append-response' && m.reject ? 'append-response (reject)' : m.type;
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    const to = this.slots.get(m.to);
    let fate = '';
    if (to === undefined) fate = ' DROPPED (no such node)';
    else if (to.node === null) fate = ` DROPPED (${m.to} is down)`;
    else if (!this.linked(m.from, m.to)) fate = ' DROPPED (partition)';
    else this.queues.set(m.to, [...(this.queues.get(m.to) ?? []), m]);
    if (this.hidden.has(m.type)) {
      this.hiddenCount.set(m.type, (this.hiddenCount.get(m.type) ?? 0) + 1);
      return [];
    }
    return [`  send ${formatMessage(m)}${fate}`];
  }

  private apply(slot: Slot, e: Entry): void {
    if (e.index !== slot.applied + 1) {
      throw new HarnessError(`${slot.id} applied ${e.index} after ${slot.applied}`);
    }
    slot.applied = e.index;
    const command = e.kind === 'normal' ? textDecoder.decode(e.data) : null;
    if (command !== null && e.data[0] === sessionCommandVersion) {
      const outcome = slot.sessions.applyCommand(e.data, e.index);
      const detail = outcome.status === 'registered' ? ` client=${outcome.clientId}` : '';
      this.sessionLines.push(`  session ${e.index}: ${outcome.status}${detail}`);
    } else if (command !== null) slot.commands.push({ index: e.index, text: command });
    const key = `${e.term}/${e.kind}/${entryText(e)}`;
    const seen = this.appliedAt.get(e.index);
    if (seen === undefined) this.appliedAt.set(e.index, { key, command });
    else if (seen.key !== key) {
      throw new HarnessError(`state machine safety: ${slot.id} applied ${key} at ${e.index}, another node ${seen.key}`);
    }
  }

  /** Session outcomes of the entries being applied, printed after the `apply:` line. */
  private readonly sessionLines: string[] = [];

  private resetSessions(slot: Slot): void {
    slot.sessions = new SessionMachine({
      // The inner machine appends the command to the node's list; its result is the list size.
      apply: (payload, index) => {
        slot.commands.push({ index, text: textDecoder.decode(payload) });
        return textEncoder.encode(String(slot.commands.length));
      },
      snapshot: () => new Uint8Array(0),
      restore: () => undefined,
    });
  }

  private checkOneLeader(term: number, id: NodeId): void {
    const known = this.leaders.get(term);
    if (known !== undefined && known !== id) throw new HarnessError(`election safety: ${known} and ${id} both lead term ${term}`);
    this.leaders.set(term, id);
  }

  // ---- helpers -------------------------------------------------------------------------------

  linked(a: NodeId, b: NodeId): boolean {
    return this.groups === null || this.groups.get(a) === this.groups.get(b);
  }

  ids(): NodeId[] {
    return sortIds([...this.slots.keys()]);
  }

  liveIds(): NodeId[] {
    return this.ids().filter((id) => this.slot(id).node !== null);
  }

  slot(id: NodeId): Slot {
    const s = this.slots.get(id);
    if (s === undefined) throw new HarnessError(`no node ${id}`);
    return s;
  }

  live(id: NodeId): RaftNode {
    const node = this.slot(id).node;
    if (node === null) throw new HarnessError(`${id} is down`);
    return node;
  }
}
