/**
 * A datadriven harness for the Raft core, in the style of etcd-raft's interaction tests: an
 * in-memory cluster of `RaftNode`s driven by a text script, one command a line, whose output is
 * a transcript compared with a golden file (`interaction.test.ts`).
 *
 * The harness is the driver the `Ready` contract talks about, and nothing more:
 *
 * - Time is `tick`; randomness is one seeded PRNG per node incarnation, so a run is exact.
 * - The network is manual: a FIFO queue of messages per destination, and nothing is delivered
 *   until a command says so (`deliver`, `stabilize`). A partition or a crashed destination
 *   drops a message when it is sent; `drop` removes queued ones.
 * - Storage is a `{ hardState, entries, snapshot }` record per node. A Ready is handled by THE
 *   Ready processor production uses (src/runtime/ready-loop.ts), whose writes are durable at
 *   once here: what is already durable is applied and what may leave before the write is sent
 *   (a leader's appends), then the write, the rest of the sends, the rest of the applies, then
 *   `advance()`. `crash` forgets the
 *   node's memory (its unprocessed state and queued inbound messages); `restart` boots a new
 *   `RaftNode` from storage alone.
 * - Each node has a state machine: the list of the commands it applied. Its snapshot is that
 *   list as text, one command per line. A snapshot installed from the leader (`Ready.snapshot`)
 *   replaces the stored log and the state machine; `compact` (or `shouldSnapshot()` after a
 *   Ready, with `snapshotevery=N`) stores the node's own snapshot and drops the stored entries
 *   the core says it may (`compactTo`); `restart` boots from the stored snapshot and the entries
 *   after it, with the state machine restored from the snapshot.
 * - Every run checks safety as it goes and aborts the script when it breaks: at most one leader
 *   per term; every node applies the same entry at each index; a snapshot a node restores holds
 *   exactly the commands applied up to its index; and a read is never answered
 *   below the highest commit index any node had when it was asked (lease reads only while every
 *   clock has run alike: `tick ID` lets one node's clock run apart, beyond any drift bound).
 *
 * Output is deterministic: nodes and queues are visited in numeric id order.
 *
 * Script syntax: one command a line; `#` lines are comments (copied to the transcript); blank
 * lines are skipped. Each command is echoed, then `----`, then its output (or `ok`).
 *
 *   add-nodes N [election=10 heartbeat=1 prevote=true checkquorum=true inflight=64
 *                maxentries=1024 maxbytes=N maxuncommitted=N drift=2 forward=true seed=1
 *                learners=ID,ID chunk=N maxsnapshot=N snapshotevery=N snapshotbytes=N
 *                trailing=N promoteafter=N promotelag=N removeafter=N minvoters=N]
 *                            a fresh cluster "1".."N" (replaces any previous one); the nodes
 *                            in `learners` are bootstrap learners, the others voters
 *   add-node ID [OPTIONS]    a new node that joins with an empty configuration (`voters: []`)
 *                            and the cluster's options, overridden by those given
 *   add-learner LEADER ID    propose a membership change on LEADER (`proposeConfChange`)
 *   request-join ID PEER..   ID (not a member) asks PEERs to add it as a learner (`requestJoin`)
 *   promote LEADER ID
 *   remove LEADER ID
 *   compact ID [INDEX]       snapshot the node's state machine at INDEX (default: applied) and
 *                            hand it to `compact`; storage keeps the snapshot, drops entries
 *                            (without INDEX, nothing happens when nothing new was applied)
 *   config [ID...]           the configuration in force on each node (voters, learners)
 *   state [ID...]            each state machine: applied index, commands, digest
 *   campaign ID              the node campaigns now (pre-vote first when enabled)
 *   tick ID [N]              tick one node N times (no Ready is handled)
 *   tick-all [N]             tick every live node N times (no Ready is handled)
 *   run N                    N rounds of: tick every live node once, then stabilize
 *   process [ID...]          handle the Readies of these nodes (default all): persist, send,
 *                            apply, advance; nothing is delivered
 *   deliver [ID...]          deliver the queued messages to these nodes (default all), each
 *                            printed; their Readies are not handled
 *   drop FROM->TO            discard queued messages; either side may be `*`
 *   stabilize [ID...]        handle Readies and deliver until nothing moves (only among the
 *                            given nodes when listed)
 *   partition A B | C D      cut the network into groups; unnamed nodes are alone
 *   isolate ID               shorthand for `partition ID | everyone else`
 *   heal                     reconnect everyone
 *   propose ID TEXT          propose TEXT on node ID
 *   propose-many ID N [PFX]  propose PFX1..PFXN (default prefix `x`)
 *   register ID              propose a client-session registration (dissertation §6.3)
 *   session ID C S TEXT      propose TEXT as client C's command number S (exactly-once)
 *   read-index ID REQ [lease]  ask node ID for a linearizable (or lease) read
 *   transfer-leader ID TO [urgent]  ask node ID to hand leadership to TO (urgent: ID is going
 *                            away, TimeoutNow follows the entries TO lacks without waiting)
 *   crash ID / restart ID    lose the node's memory / boot it from its storage
 *   status [ID...]           role, term, vote, leader, commit, applied, last index@term
 *   log ID                   the node's durable hard state and entries
 *   queued                   every message waiting for delivery
 *   counts / reset-counts    messages sent by type (rejections apart)
 *   hide TYPE... / show      stop / resume printing sends of some message types
 */
import { createPrng } from '../../src/core/prng.ts';
import type { RaftConfig } from '../../src/core/raft/config.ts';
import type { Message } from '../../src/core/raft/messages.ts';
import { RaftNode } from '../../src/core/raft/raft-node.ts';
import { RaftReadyLoop } from '../../src/runtime/ready-loop.ts';
import { decodeSessionCommand, encodeSessionCommand, SessionMachine, sessionCommandVersion } from '../../src/machines/sessions.ts';
import type { ConfChange } from '../../src/core/raft/conf-change.ts';
import {
  emptyHardState,
  type BootState,
  type ConfState,
  type Entry,
  type HardState,
  type NodeId,
  type Ready,
  type Role,
  type Snapshot,
} from '../../src/core/raft/types.ts';

/** A broken safety property or a bad script: aborts the run. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

interface Storage {
  hardState: HardState;
  entries: Entry[];
  snapshot: Snapshot | null;
}

interface Slot {
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

/** Upper bounds on loops driven by the script (TIGER_STYLE: a limit on everything). */
const stabilizeRoundsMax = 1000;
const readiesPerNodeMax = 100;
const ticksPerCommandMax = 10_000;

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

export function runScript(script: string): string {
  return new Interpreter().run(script);
}

class Interpreter {
  private readonly slots = new Map<NodeId, Slot>();
  private readonly queues = new Map<NodeId, Message[]>();
  /** Partition groups: two nodes talk only when in the same group. Null: fully connected. */
  private groups: Map<NodeId, number> | null = null;
  private seed = 1;
  /** The cluster's Raft options (from `add-nodes`), which `add-node` inherits. */
  private clusterOptions: RaftOptions = {};
  /** Message types whose sends are counted but not printed. */
  private readonly hidden = new Set<string>();
  /** Hidden sends counted since the current `stabilize` or `run` began. */
  private hiddenCount = new Map<string, number>();
  /** Message counts by type since `reset-counts` (rejections counted apart). */
  private counts = new Map<string, number>();
  /** Safety: the leader of each term, and the entry applied at each index. */
  private readonly leaders = new Map<number, NodeId>();
  private readonly appliedAt = new Map<number, AppliedRecord>();
  /** Linearizability of reads: the highest commit index anywhere when each read began. */
  private readonly readFloors = new Map<string, { floor: number; lease: boolean }>();
  private clocksDiverged = false;
  private out: string[] = [];

  run(script: string): string {
    const transcript: string[] = [];
    const lines = script.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line === '') continue;
      if (line.startsWith('#')) {
        transcript.push(line);
        continue;
      }
      this.out = [];
      let aborted = false;
      try {
        this.execute(line);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        this.out.push(`ERROR ${error.name}: ${error.message}`, `script aborted at line ${i + 1}`);
        aborted = true;
      }
      transcript.push(line, '----', ...(this.out.length === 0 ? ['ok'] : this.out), '');
      if (aborted) break;
    }
    return transcript.join('\n');
  }

  // ---- commands ------------------------------------------------------------------------------

  private execute(line: string): void {
    const [cmd, ...args] = line.split(/\s+/) as [string, ...string[]];
    switch (cmd) {
      case 'add-nodes':
        return this.addNodes(args);
      case 'add-node':
        return this.addNode(arg(args, 0), args.slice(1));
      case 'add-learner':
      case 'promote':
      case 'remove':
        return this.confChange(arg(args, 0), { type: cmd, node: arg(args, 1) });
      case 'compact':
        return this.compactCommand(arg(args, 0), args[1]);
      case 'config':
        return this.printConfig(args.length === 0 ? this.liveIds() : args);
      case 'state':
        return this.printState(args.length === 0 ? this.liveIds() : args);
      case 'campaign':
        return this.withChanges(() => this.live(arg(args, 0)).campaign());
      case 'tick':
        return this.tick([arg(args, 0)], count(args[1]));
      case 'tick-all':
        return this.tick(this.liveIds(), count(args[0]));
      case 'run':
        return this.runTicks(count(args[0]));
      case 'process':
        return this.process(args.length === 0 ? this.liveIds() : args);
      case 'deliver':
        this.deliver(args.length === 0 ? this.ids() : args, true);
        return;
      case 'drop':
        return this.drop(arg(args, 0));
      case 'stabilize':
        this.hiddenCount = new Map();
        this.stabilize(args.length === 0 ? null : new Set(args));
        return this.printHidden();
      case 'partition':
        return this.partition(args);
      case 'isolate':
        return this.partition([arg(args, 0), '|', ...this.ids().filter((id) => id !== args[0])]);
      case 'heal':
        this.groups = null;
        this.out.push('network healed');
        return;
      case 'propose':
        return this.propose(arg(args, 0), args.slice(1).join(' '));
      case 'propose-many':
        return this.proposeMany(arg(args, 0), count(args[1]), args[2] ?? 'x');
      case 'register':
        return this.proposeBytes(arg(args, 0), encodeSessionCommand({ type: 'register' }));
      case 'session':
        return this.proposeBytes(
          arg(args, 0),
          encodeSessionCommand({ type: 'request', clientId: Number(arg(args, 1)), seq: Number(arg(args, 2)), payload: textEncoder.encode(args.slice(3).join(' ')) }),
        );
      case 'read-index':
        return this.readIndex(arg(args, 0), Number(arg(args, 1)), args[2] === 'lease');
      case 'transfer-leader':
        return this.transfer(arg(args, 0), arg(args, 1), args[2] === 'urgent');
      case 'request-join':
        return this.withChanges(() => {
          const sent = this.live(arg(args, 0)).requestJoin(args.slice(1));
          this.out.push(sent ? `join requested from ${args.slice(1).join(' ')}` : 'already a member: nothing sent');
        });
      case 'crash':
        return this.crash(arg(args, 0));
      case 'restart':
        return this.restart(arg(args, 0));
      case 'status':
        return this.status(args.length === 0 ? this.ids() : args);
      case 'log':
        return this.log(arg(args, 0));
      case 'queued':
        return this.queued();
      case 'counts':
        return this.printCounts();
      case 'reset-counts':
        this.counts = new Map();
        return;
      case 'hide':
        for (const t of args) this.hidden.add(t);
        this.out.push(`hiding ${[...this.hidden].sort().join(', ')}`);
        return;
      case 'show':
        this.hidden.clear();
        this.out.push('showing every message');
        return;
      default:
        throw new HarnessError(`unknown command ${cmd}`);
    }
  }

  private addNodes(args: string[]): void {
    const n = count(args[0]);
    const opts = parseOptions(args.slice(1));
    this.seed = opts.seed ?? 1;
    this.clusterOptions = opts.raft;
    this.slots.clear();
    this.queues.clear();
    this.groups = null;
    this.leaders.clear();
    this.appliedAt.clear();
    this.readFloors.clear();
    this.clocksDiverged = false;
    this.counts = new Map();
    const all = Array.from({ length: n }, (_, i) => String(i + 1));
    const learners = opts.learners ?? [];
    for (const l of learners) if (!all.includes(l)) throw new HarnessError(`learner ${l} is not one of the ${n} nodes`);
    const voters = all.filter((id) => !learners.includes(id));
    for (const id of all) {
      const config: Omit<RaftConfig, 'prng'> = learners.length === 0 ? { id, voters, ...opts.raft } : { id, voters, learners, ...opts.raft };
      this.createSlot(id, config);
    }
    const c = this.slot('1').config;
    this.out.push(
      `${n} nodes (${all.join(' ')}): election=${c.electionTimeoutTicks ?? 10} heartbeat=${c.heartbeatIntervalTicks ?? 1} ` +
        `prevote=${c.preVote ?? true} checkquorum=${c.checkQuorum ?? true} seed=${this.seed}${opts.extra}`,
    );
  }

  /** A node joining the running cluster: empty configuration, it learns one from the leader. */
  private addNode(id: NodeId, args: string[]): void {
    if (!/^[1-9][0-9]*$/.test(id)) throw new HarnessError(`node ids are positive integers, got ${id}`);
    if (this.slots.has(id)) throw new HarnessError(`node ${id} exists`);
    const opts = parseOptions(args);
    if (opts.seed !== undefined || opts.learners !== undefined) throw new HarnessError('add-node takes neither seed= nor learners=');
    this.createSlot(id, { id, voters: [], ...this.clusterOptions, ...opts.raft });
    this.out.push(`${id} joins with an empty configuration${opts.extra}`);
  }

  private createSlot(id: NodeId, config: Omit<RaftConfig, 'prng'>): void {
    const storage: Storage = { hardState: emptyHardState, entries: [], snapshot: null };
    this.slots.set(id, { id, config, node: null, storage, incarnation: 0, applied: 0, commands: [], sessions: null as unknown as SessionMachine });
    this.resetSessions(this.slot(id));
    this.boot(this.slot(id));
  }

  /** Boot a node from its storage: the snapshot (state machine restored from it) and the tail. */
  private boot(slot: Slot): void {
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
  private withChanges(f: () => void, label = ''): void {
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

  private tick(ids: NodeId[], n: number): void {
    if (ids.length < this.liveIds().length) this.clocksDiverged = true;
    for (let i = 1; i <= n; i++) {
      this.withChanges(() => {
        for (const id of ids) this.live(id).tick();
      }, `tick ${i}: `);
    }
  }

  /** `n` rounds of: every live node ticks once, then the cluster stabilizes. */
  private runTicks(n: number): void {
    this.hiddenCount = new Map();
    for (let i = 1; i <= n; i++) {
      const mark = this.out.length;
      this.withChanges(() => {
        for (const id of this.liveIds()) this.live(id).tick();
      });
      this.stabilize(null);
      if (this.out.length > mark) this.out.splice(mark, 0, `-- tick ${i}`);
    }
    this.printHidden();
  }

  private printHidden(): void {
    if (this.hiddenCount.size === 0) return;
    const parts = [...this.hiddenCount].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]) => `${n} ${t}`);
    this.out.push(`(not shown: ${parts.join(', ')})`);
  }

  private process(ids: NodeId[]): void {
    for (const id of sortIds(ids)) {
      if (this.live(id).hasReady()) this.handleReadies(this.slot(id));
    }
  }

  /** Deliver every queued message addressed to one of `ids`, in FIFO order per destination. */
  private deliver(ids: NodeId[], print: boolean): number {
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

  private stabilize(only: Set<NodeId> | null): void {
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

  private drop(spec: string): void {
    const [from, to] = spec.split('->') as [string, string | undefined];
    if (to === undefined) throw new HarnessError(`drop needs FROM->TO (either may be *), got ${spec}`);
    for (const dest of this.ids()) {
      if (to !== '*' && to !== dest) continue;
      const queue = this.queues.get(dest) ?? [];
      const kept: Message[] = [];
      for (const m of queue) {
        if (from === '*' || from === m.from) this.out.push(`dropped ${formatMessage(m)}`);
        else kept.push(m);
      }
      this.queues.set(dest, kept);
    }
  }

  private partition(args: string[]): void {
    const groups = new Map<NodeId, number>();
    let g = 0;
    for (const a of args) {
      if (a === '|') g++;
      else groups.set(a, g);
    }
    // A node not named is on its own.
    for (const id of this.ids()) if (!groups.has(id)) groups.set(id, ++g);
    this.groups = groups;
    let dropped = 0;
    for (const [to, queue] of this.queues) {
      const kept = queue.filter((m) => this.linked(m.from, to));
      dropped += queue.length - kept.length;
      this.queues.set(to, kept);
    }
    const byGroup = new Map<number, NodeId[]>();
    for (const id of this.ids()) {
      const k = groups.get(id) as number;
      byGroup.set(k, [...(byGroup.get(k) ?? []), id]);
    }
    const shown = [...byGroup.values()].map((ids) => ids.join(' ')).join(' | ');
    this.out.push(`partitioned: ${shown}${dropped > 0 ? ` (dropped ${dropped} queued messages)` : ''}`);
  }

  private propose(id: NodeId, text: string): void {
    this.proposeBytes(id, textEncoder.encode(text));
  }

  private proposeBytes(id: NodeId, bytes: Uint8Array): void {
    const res = this.live(id).propose(bytes);
    if (!res.ok) {
      this.out.push(`refused: ${res.error.message}`);
      return;
    }
    const v = res.value;
    this.out.push('forwardedTo' in v ? `forwarded to ${v.forwardedTo}` : `accepted at index ${v.index} term ${v.term}`);
  }

  private proposeMany(id: NodeId, n: number, prefix: string): void {
    const accepted: number[] = [];
    const refused: string[] = [];
    for (let i = 1; i <= n; i++) {
      const res = this.live(id).propose(textEncoder.encode(`${prefix}${i}`));
      if (!res.ok) refused.push(res.error.message);
      else if ('index' in res.value) accepted.push(res.value.index);
    }
    if (accepted.length > 0) {
      this.out.push(`accepted ${accepted.length} at indices ${accepted[0]}..${accepted[accepted.length - 1]}`);
    }
    if (refused.length > 0) this.out.push(`refused ${refused.length}: ${[...new Set(refused)].join('; ')}`);
    if (accepted.length + refused.length < n) this.out.push(`forwarded ${n - accepted.length - refused.length}`);
  }

  private readIndex(id: NodeId, requestId: number, lease: boolean): void {
    const key = `${id}/${requestId}`;
    if (this.readFloors.has(key)) throw new HarnessError(`read ${requestId} is already pending on ${id}`);
    const res = this.live(id).readIndex(requestId, lease ? 'lease' : 'linearizable');
    this.out.push(res.ok ? `read ${requestId} requested` : `refused: ${res.error.message}`);
    // Linearizability: whatever any node had committed when the read began, the read must see.
    if (res.ok) this.readFloors.set(key, { floor: this.maxCommit(), lease });
  }

  private maxCommit(): number {
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

  private transfer(id: NodeId, to: NodeId, urgent: boolean): void {
    const res = this.live(id).transferLeadership(to, { urgent });
    this.out.push(res.ok ? `transfer to ${to} requested` : `refused: ${res.error.message}`);
  }

  private crash(id: NodeId): void {
    const slot = this.slot(id);
    if (slot.node === null) throw new HarnessError(`${id} is already down`);
    slot.node = null;
    for (const key of [...this.readFloors.keys()]) if (key.startsWith(`${id}/`)) this.readFloors.delete(key);
    const queued = this.queues.get(id)?.length ?? 0;
    this.queues.set(id, []);
    this.out.push(`${id} crashed${queued > 0 ? ` (${queued} queued messages to it lost)` : ''}`);
  }

  private restart(id: NodeId): void {
    const slot = this.slot(id);
    if (slot.node !== null) throw new HarnessError(`${id} is running`);
    slot.incarnation++;
    this.boot(slot);
    const { hardState: hs, snapshot, entries } = slot.storage;
    const base = snapshot?.meta.index ?? 0;
    const snap = snapshot === null ? '' : ` snapshot=${snapshot.meta.index}@${snapshot.meta.term} (${slot.commands.length} commands)`;
    const tail = entries.filter((e) => e.index > base);
    this.out.push(`${id} restarted from storage: term=${hs.term} vote=${hs.vote ?? '-'} commit=${hs.commit}${snap} entries=${rangeOf(tail)}`);
  }

  private confChange(leader: NodeId, change: ConfChange): void {
    const res = this.live(leader).proposeConfChange(change);
    this.out.push(res.ok ? `accepted at index ${res.value.index} term ${res.value.term}` : `refused: ${res.error.message}`);
  }

  /** `compact ID [INDEX]`: the node's state machine snapshot at INDEX, handed to the core. */
  private compactCommand(id: NodeId, at: string | undefined): void {
    const slot = this.slot(id);
    this.live(id);
    const index = at === undefined ? slot.applied : Number(at);
    const snapIndex = slot.storage.snapshot?.meta.index ?? 0;
    if (at === undefined && index <= snapIndex) {
      this.out.push(`nothing to compact: applied ${index}, snapshot at ${snapIndex}`);
      return;
    }
    if (!Number.isSafeInteger(index) || index > slot.applied || index <= snapIndex) {
      throw new HarnessError(`compact ${id}: index ${at ?? index} must be above the snapshot (${snapIndex}) and at most applied (${slot.applied})`);
    }
    this.out.push(this.compactNode(slot, index));
  }

  /** Take the state machine's snapshot at `index`, give it to the core, store what it says. */
  private compactNode(slot: Slot, index: number): string {
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

  private printConfig(ids: NodeId[]): void {
    for (const id of sortIds(ids)) this.out.push(`${id}: ${formatConf(this.live(id).config())}`);
  }

  private printState(ids: NodeId[]): void {
    for (const id of sortIds(ids)) {
      const slot = this.slot(id);
      this.live(id);
      const texts = slot.commands.map((c) => c.text);
      const first = texts[0];
      const last = texts[texts.length - 1];
      const span = first === undefined ? '' : texts.length === 1 ? ` [${first}]` : ` [${first} .. ${last}]`;
      this.out.push(`${id}: applied=${slot.applied} commands=${texts.length} digest=${digest(encodeCommands(texts))}${span}`);
    }
  }

  private status(ids: NodeId[]): void {
    for (const id of sortIds(ids)) {
      const node = this.slot(id).node;
      if (node === null) {
        this.out.push(`${id}: DOWN`);
        continue;
      }
      const s = node.status();
      this.out.push(
        `${id}: ${s.role} term=${s.term} vote=${s.vote ?? '-'} leader=${s.leader ?? '-'} commit=${s.commit} applied=${s.applied} last=${s.lastIndex}@${s.lastTerm}`,
      );
    }
  }

  /** The durable log of a node (what a restart would load). */
  private log(id: NodeId): void {
    const s = this.slot(id).storage;
    this.out.push(`hard state: term=${s.hardState.term} vote=${s.hardState.vote ?? '-'} commit=${s.hardState.commit}`);
    if (s.snapshot !== null) {
      const { meta, data } = s.snapshot;
      this.out.push(`snapshot: ${meta.index}@${meta.term} (${data.byteLength} bytes, ${formatConf(meta.config)})`);
    }
    if (s.entries.length === 0) this.out.push('no entries');
    // Long runs of commands of one term are shown as one line.
    let i = 0;
    while (i < s.entries.length) {
      const e = s.entries[i] as Entry;
      let j = i;
      while (j + 1 < s.entries.length && (s.entries[j + 1] as Entry).term === e.term && (s.entries[j + 1] as Entry).kind === e.kind) j++;
      if (j - i >= 3) {
        const last = s.entries[j] as Entry;
        this.out.push(`${e.index}..${last.index}@${e.term} ${e.kind} ${entryText(e)} .. ${entryText(last)} (${j - i + 1} entries)`);
        i = j + 1;
      } else {
        this.out.push(e.kind === 'empty' ? `${e.index}@${e.term} empty` : `${e.index}@${e.term} ${e.kind === 'normal' ? 'normal ' : ''}${entryText(e)}`);
        i++;
      }
    }
  }

  private queued(): void {
    for (const to of this.ids()) for (const m of this.queues.get(to) ?? []) this.out.push(formatMessage(m));
    if (this.out.length === 0) this.out.push('no messages queued');
  }

  private printCounts(): void {
    const rows = [...this.counts].sort(([a], [b]) => a.localeCompare(b));
    if (rows.length === 0) this.out.push('no messages sent');
    for (const [t, n] of rows) this.out.push(`${t}: ${n}`);
  }

  // ---- the driver: one Ready ----------------------------------------------------------------

  /**
   * Handle the node's Readies through THE Ready processor (src/runtime/ready-loop.ts), the one
   * production and the simulator use, with a host that persists at once (the write is durable
   * when `persist` returns) and prints what it does, in the order the processor does it: apply
   * what is already durable, send what may leave before the write, persist, send the rest,
   * restore a snapshot, apply the rest, the reads, then the snapshot policy after `advance()`.
   */
  private handleReadies(slot: Slot): void {
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

  private linked(a: NodeId, b: NodeId): boolean {
    return this.groups === null || this.groups.get(a) === this.groups.get(b);
  }

  private ids(): NodeId[] {
    return sortIds([...this.slots.keys()]);
  }

  private liveIds(): NodeId[] {
    return this.ids().filter((id) => this.slot(id).node !== null);
  }

  private slot(id: NodeId): Slot {
    const s = this.slots.get(id);
    if (s === undefined) throw new HarnessError(`no node ${id}`);
    return s;
  }

  private live(id: NodeId): RaftNode {
    const node = this.slot(id).node;
    if (node === null) throw new HarnessError(`${id} is down`);
    return node;
  }
}

// ---- parsing -------------------------------------------------------------------------------

function arg(args: readonly string[], i: number): string {
  const a = args[i];
  if (a === undefined) throw new HarnessError(`missing argument ${i + 1}`);
  return a;
}

function count(s: string | undefined): number {
  if (s === undefined) return 1;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1 || n > ticksPerCommandMax) throw new HarnessError(`bad count ${s}`);
  return n;
}

type RaftOptions = Partial<Omit<RaftConfig, 'id' | 'voters' | 'learners' | 'prng'>>;

interface Options {
  seed?: number;
  learners?: NodeId[];
  raft: RaftOptions;
  /** The options that older scripts did not have, echoed back (` chunk=8 trailing=2`). */
  extra: string;
}

/** Options that existed before membership and snapshots: `add-nodes` does not echo them. */
const numericOptions: Record<string, string> = {
  election: 'electionTimeoutTicks',
  heartbeat: 'heartbeatIntervalTicks',
  inflight: 'maxInflightAppends',
  maxentries: 'maxEntriesPerAppend',
  maxbytes: 'maxBytesPerAppend',
  maxuncommitted: 'maxUncommittedEntries',
  drift: 'leaseDriftTicks',
};

/** Membership and snapshot options: echoed by `add-nodes` and `add-node` when given. */
const echoedNumericOptions: Record<string, string> = {
  chunk: 'snapshotChunkBytes',
  maxsnapshot: 'maxSnapshotBytes',
  snapshotevery: 'snapshotEveryEntries',
  snapshotbytes: 'snapshotEveryBytes',
  trailing: 'snapshotTrailingEntries',
  promoteafter: 'promoteLearnerAfterTicks',
  promotelag: 'promoteLearnerLagEntries',
  removeafter: 'removeUnreachableVoterAfterTicks',
  minvoters: 'minVoters',
};

function parseOptions(args: readonly string[]): Options {
  const raft: Record<string, number | boolean> = {};
  const opts: Options = { raft, extra: '' };
  const flags: Record<string, string> = { prevote: 'preVote', checkquorum: 'checkQuorum', forward: 'forwardProposals' };
  for (const a of args) {
    const [k, v] = a.split('=') as [string, string | undefined];
    if (v === undefined) throw new HarnessError(`option ${a} needs a value`);
    const num = numericOptions[k];
    const echoed = echoedNumericOptions[k];
    const flag = flags[k];
    if (k === 'seed') opts.seed = Number(v);
    else if (k === 'learners') {
      opts.learners = v.split(',').filter((id) => id !== '');
      opts.extra += ` ${a}`;
    } else if (num !== undefined) raft[num] = Number(v);
    else if (echoed !== undefined) {
      raft[echoed] = Number(v);
      opts.extra += ` ${a}`;
    } else if (flag !== undefined) raft[flag] = v === 'true';
    else throw new HarnessError(`unknown option ${k}`);
  }
  return opts;
}

function sortIds(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
}

// ---- formatting ----------------------------------------------------------------------------

function entryText(e: Entry): string {
  if (e.kind === 'empty') return 'empty';
  if (e.kind === 'normal' && e.data[0] === sessionCommandVersion) {
    const c = decodeSessionCommand(e.data);
    if (!c.ok) return 'session ?';
    if (c.value.type === 'register') return 'register';
    return `session c=${c.value.clientId} s=${c.value.seq} ${JSON.stringify(textDecoder.decode(c.value.payload))}`;
  }
  if (e.kind === 'config') return `config ${e.config === undefined ? '?' : formatConf(e.config)}`;
  return JSON.stringify(textDecoder.decode(e.data));
}

/** `voters=[1 2 3] learners=[4]` */
function formatConf(c: ConfState): string {
  return `voters=[${sortIds(c.voters).join(' ')}] learners=[${sortIds(c.learners).join(' ')}]`;
}

/** The state machine's snapshot bytes: one command per line. */
function encodeCommands(commands: readonly string[]): Uint8Array {
  return textEncoder.encode(commands.map((c) => `${c}\n`).join(''));
}

/** FNV-1a (32 bits), to compare state machines at a glance. */
function digest(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Entries as runs of one term: `[2..61@1]`, `[2@1, 3..5@2]`. */
function formatEntries(entries: readonly Entry[]): string {
  const runs: string[] = [];
  let i = 0;
  while (i < entries.length) {
    const first = entries[i] as Entry;
    let j = i;
    while (j + 1 < entries.length && (entries[j + 1] as Entry).term === first.term) j++;
    const last = entries[j] as Entry;
    runs.push(first.index === last.index ? `${first.index}@${first.term}` : `${first.index}..${last.index}@${first.term}`);
    i = j + 1;
  }
  return `[${runs.join(', ')}]`;
}

function formatApplied(entries: readonly Entry[]): string {
  const each = (e: Entry): string => `${e.index}@${e.term} ${entryText(e)}`;
  if (entries.length <= 5) return entries.map(each).join(', ');
  return `${entries.length} entries: ${each(entries[0] as Entry)} .. ${each(entries[entries.length - 1] as Entry)}`;
}

function rangeOf(entries: readonly Entry[]): string {
  if (entries.length === 0) return 'none';
  return formatEntries(entries);
}

/** One message on one line: `1->2 vote term=2 last=(5,1)`. */
export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type}`;
  switch (m.type) {
    case 'append': {
      const entries = m.entries.length > 0 ? ` entries=${formatEntries(m.entries)}` : '';
      return `${head} term=${m.term} prev=(${m.prevIndex},${m.prevTerm})${entries} commit=${m.commit}`;
    }
    case 'append-response':
      return m.reject
        ? `${head} term=${m.term} REJECT index=${m.index} hint=(${m.hintIndex},${m.hintTerm})`
        : `${head} term=${m.term} index=${m.index}`;
    case 'heartbeat':
      return `${head} term=${m.term} commit=${m.commit} round=${m.round}`;
    case 'heartbeat-response':
      return `${head} term=${m.term} round=${m.round}`;
    case 'vote':
    case 'pre-vote':
      return `${head} term=${m.term} last=(${m.lastIndex},${m.lastTerm})${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
    case 'pre-vote-response':
      return `${head} term=${m.term} ${m.reject ? 'REJECT' : 'granted'}`;
    case 'timeout-now':
      return `${head} term=${m.term}`;
    case 'propose':
      return `${head} ${m.data.map((d) => JSON.stringify(textDecoder.decode(d))).join(' ')}`;
    case 'read-index':
      return `${head} id=${m.requestId}${m.lease ? ' lease' : ''}`;
    case 'read-index-response':
      return `${head} id=${m.requestId} ${m.index < 0 ? 'DROPPED' : `index=${m.index}`}`;
    case 'transfer-leader':
      return `${head} to=${m.transferee}`;
    case 'join':
      return `${head} node=${m.node}`;
    case 'snapshot':
      return `${head} term=${m.term} snap=${m.meta.index}@${m.meta.term} offset=${m.offset} bytes=${m.data.byteLength}${m.done ? ' done' : ''} commit=${m.commit}`;
    case 'snapshot-response':
      return `${head} term=${m.term} index=${m.index} received=${m.received}${m.done ? ' done' : ''}`;
    default: {
      const never: never = m;
      return never;
    }
  }
}
