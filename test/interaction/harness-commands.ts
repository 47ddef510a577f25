/**
 * The commands of the interaction harness's scripts (harness.ts lists their syntax), each a
 * function of the cluster (harness-cluster.ts) that acts on it and prints its outcome to
 * `c.out`: building the cluster, time, delivery and the network, proposals, membership, reads,
 * leadership transfer, crash and restart, compaction, and the printouts of status, logs,
 * queues, state machines and message counts.
 */
import type { ConfChange } from '../../src/core/raft/conf-change.ts';
import type { RaftConfig } from '../../src/core/raft/config.ts';
import type { Message } from '../../src/core/raft/messages.ts';
import type { Entry, NodeId } from '../../src/core/raft/types.ts';
import type { Cluster } from './harness-cluster.ts';
import { digest, encodeCommands, entryText, formatConf, formatMessage, rangeOf, sortIds, textEncoder } from './harness-format.ts';
import { count, HarnessError, parseOptions } from './harness-options.ts';

export function addNodes(c: Cluster, args: string[]): void {
  const n = count(args[0]);
  const opts = parseOptions(args.slice(1));
  c.seed = opts.seed ?? 1;
  c.clusterOptions = opts.raft;
  c.slots.clear();
  c.queues.clear();
  c.groups = null;
  c.leaders.clear();
  c.appliedAt.clear();
  c.readFloors.clear();
  c.clocksDiverged = false;
  c.counts = new Map();
  const all = Array.from({ length: n }, (_, i) => String(i + 1));
  const learners = opts.learners ?? [];
  for (const l of learners) if (!all.includes(l)) throw new HarnessError(`learner ${l} is not one of the ${n} nodes`);
  const voters = all.filter((id) => !learners.includes(id));
  for (const id of all) {
    const config: Omit<RaftConfig, 'prng'> = learners.length === 0 ? { id, voters, ...opts.raft } : { id, voters, learners, ...opts.raft };
    c.createSlot(id, config);
  }
  const cfg = c.slot('1').config;
  c.out.push(
    `${n} nodes (${all.join(' ')}): election=${cfg.electionTimeoutTicks ?? 10} heartbeat=${cfg.heartbeatIntervalTicks ?? 1} ` +
      `prevote=${cfg.preVote ?? true} checkquorum=${cfg.checkQuorum ?? true} seed=${c.seed}${opts.extra}`,
  );
}

/** A node joining the running cluster: empty configuration, it learns one from the leader. */
export function addNode(c: Cluster, id: NodeId, args: string[]): void {
  if (!/^[1-9][0-9]*$/.test(id)) throw new HarnessError(`node ids are positive integers, got ${id}`);
  if (c.slots.has(id)) throw new HarnessError(`node ${id} exists`);
  const opts = parseOptions(args);
  if (opts.seed !== undefined || opts.learners !== undefined) throw new HarnessError('add-node takes neither seed= nor learners=');
  c.createSlot(id, { id, voters: [], ...c.clusterOptions, ...opts.raft });
  c.out.push(`${id} joins with an empty configuration${opts.extra}`);
}

export function tick(c: Cluster, ids: NodeId[], n: number): void {
  if (ids.length < c.liveIds().length) c.clocksDiverged = true;
  for (let i = 1; i <= n; i++) {
    c.withChanges(() => {
      for (const id of ids) c.live(id).tick();
    }, `tick ${i}: `);
  }
}

/** `n` rounds of: every live node ticks once, then the cluster stabilizes. */
export function runTicks(c: Cluster, n: number): void {
  c.hiddenCount = new Map();
  for (let i = 1; i <= n; i++) {
    const mark = c.out.length;
    c.withChanges(() => {
      for (const id of c.liveIds()) c.live(id).tick();
    });
    c.stabilize(null);
    if (c.out.length > mark) c.out.splice(mark, 0, `-- tick ${i}`);
  }
  c.printHidden();
}

export function processReadies(c: Cluster, ids: NodeId[]): void {
  for (const id of sortIds(ids)) {
    if (c.live(id).hasReady()) c.handleReadies(c.slot(id));
  }
}

export function drop(c: Cluster, spec: string): void {
  const [from, to] = spec.split('->') as [string, string | undefined];
  if (to === undefined) throw new HarnessError(`drop needs FROM->TO (either may be *), got ${spec}`);
  for (const dest of c.ids()) {
    if (to !== '*' && to !== dest) continue;
    const queue = c.queues.get(dest) ?? [];
    const kept: Message[] = [];
    for (const m of queue) {
      if (from === '*' || from === m.from) c.out.push(`dropped ${formatMessage(m)}`);
      else kept.push(m);
    }
    c.queues.set(dest, kept);
  }
}

export function partition(c: Cluster, args: string[]): void {
  const groups = new Map<NodeId, number>();
  let g = 0;
  for (const a of args) {
    if (a === '|') g++;
    else groups.set(a, g);
  }
  // A node not named is on its own.
  for (const id of c.ids()) if (!groups.has(id)) groups.set(id, ++g);
  c.groups = groups;
  let dropped = 0;
  for (const [to, queue] of c.queues) {
    const kept = queue.filter((m) => c.linked(m.from, to));
    dropped += queue.length - kept.length;
    c.queues.set(to, kept);
  }
  const byGroup = new Map<number, NodeId[]>();
  for (const id of c.ids()) {
    const k = groups.get(id) as number;
    byGroup.set(k, [...(byGroup.get(k) ?? []), id]);
  }
  const shown = [...byGroup.values()].map((ids) => ids.join(' ')).join(' | ');
  c.out.push(`partitioned: ${shown}${dropped > 0 ? ` (dropped ${dropped} queued messages)` : ''}`);
}

export function propose(c: Cluster, id: NodeId, text: string): void {
  proposeBytes(c, id, textEncoder.encode(text));
}

export function proposeBytes(c: Cluster, id: NodeId, bytes: Uint8Array): void {
  const res = c.live(id).propose(bytes);
  if (!res.ok) {
    c.out.push(`refused: ${res.error.message}`);
    return;
  }
  const v = res.value;
  c.out.push('forwardedTo' in v ? `forwarded to ${v.forwardedTo}` : `accepted at index ${v.index} term ${v.term}`);
}

export function proposeMany(c: Cluster, id: NodeId, n: number, prefix: string): void {
  const accepted: number[] = [];
  const refused: string[] = [];
  for (let i = 1; i <= n; i++) {
    const res = c.live(id).propose(textEncoder.encode(`${prefix}${i}`));
    if (!res.ok) refused.push(res.error.message);
    else if ('index' in res.value) accepted.push(res.value.index);
  }
  if (accepted.length > 0) {
    c.out.push(`accepted ${accepted.length} at indices ${accepted[0]}..${accepted[accepted.length - 1]}`);
  }
  if (refused.length > 0) c.out.push(`refused ${refused.length}: ${[...new Set(refused)].join('; ')}`);
  if (accepted.length + refused.length < n) c.out.push(`forwarded ${n - accepted.length - refused.length}`);
}

export function readIndex(c: Cluster, id: NodeId, requestId: number, lease: boolean): void {
  const key = `${id}/${requestId}`;
  if (c.readFloors.has(key)) throw new HarnessError(`read ${requestId} is already pending on ${id}`);
  const res = c.live(id).readIndex(requestId, lease ? 'lease' : 'linearizable');
  c.out.push(res.ok ? `read ${requestId} requested` : `refused: ${res.error.message}`);
  // Linearizability: whatever any node had committed when the read began, the read must see.
  if (res.ok) c.readFloors.set(key, { floor: c.maxCommit(), lease });
}

export function transfer(c: Cluster, id: NodeId, to: NodeId, urgent: boolean): void {
  const res = c.live(id).transferLeadership(to, { urgent });
  c.out.push(res.ok ? `transfer to ${to} requested` : `refused: ${res.error.message}`);
}

export function crash(c: Cluster, id: NodeId): void {
  const slot = c.slot(id);
  if (slot.node === null) throw new HarnessError(`${id} is already down`);
  slot.node = null;
  for (const key of [...c.readFloors.keys()]) if (key.startsWith(`${id}/`)) c.readFloors.delete(key);
  const queued = c.queues.get(id)?.length ?? 0;
  c.queues.set(id, []);
  c.out.push(`${id} crashed${queued > 0 ? ` (${queued} queued messages to it lost)` : ''}`);
}

export function restart(c: Cluster, id: NodeId): void {
  const slot = c.slot(id);
  if (slot.node !== null) throw new HarnessError(`${id} is running`);
  slot.incarnation++;
  c.boot(slot);
  const { hardState: hs, snapshot, entries } = slot.storage;
  const base = snapshot?.meta.index ?? 0;
  const snap = snapshot === null ? '' : ` snapshot=${snapshot.meta.index}@${snapshot.meta.term} (${slot.commands.length} commands)`;
  const tail = entries.filter((e) => e.index > base);
  c.out.push(`${id} restarted from storage: term=${hs.term} vote=${hs.vote ?? '-'} commit=${hs.commit}${snap} entries=${rangeOf(tail)}`);
}

export function confChange(c: Cluster, leader: NodeId, change: ConfChange): void {
  const res = c.live(leader).proposeConfChange(change);
  c.out.push(res.ok ? `accepted at index ${res.value.index} term ${res.value.term}` : `refused: ${res.error.message}`);
}

/** `compact ID [INDEX]`: the node's state machine snapshot at INDEX, handed to the core. */
export function compactCommand(c: Cluster, id: NodeId, at: string | undefined): void {
  const slot = c.slot(id);
  c.live(id);
  const index = at === undefined ? slot.applied : Number(at);
  const snapIndex = slot.storage.snapshot?.meta.index ?? 0;
  if (at === undefined && index <= snapIndex) {
    c.out.push(`nothing to compact: applied ${index}, snapshot at ${snapIndex}`);
    return;
  }
  if (!Number.isSafeInteger(index) || index > slot.applied || index <= snapIndex) {
    throw new HarnessError(`compact ${id}: index ${at ?? index} must be above the snapshot (${snapIndex}) and at most applied (${slot.applied})`);
  }
  c.out.push(c.compactNode(slot, index));
}

export function printConfig(c: Cluster, ids: NodeId[]): void {
  for (const id of sortIds(ids)) c.out.push(`${id}: ${formatConf(c.live(id).config())}`);
}

export function printState(c: Cluster, ids: NodeId[]): void {
  for (const id of sortIds(ids)) {
    const slot = c.slot(id);
    c.live(id);
    const texts = slot.commands.map((command) => command.text);
    const first = texts[0];
    const last = texts[texts.length - 1];
    const span = first === undefined ? '' : texts.length === 1 ? ` [${first}]` : ` [${first} .. ${last}]`;
    c.out.push(`${id}: applied=${slot.applied} commands=${texts.length} digest=${digest(encodeCommands(texts))}${span}`);
  }
}

export function status(c: Cluster, ids: NodeId[]): void {
  for (const id of sortIds(ids)) {
    const node = c.slot(id).node;
    if (node === null) {
      c.out.push(`${id}: DOWN`);
      continue;
    }
    const s = node.status();
    c.out.push(
      `${id}: ${s.role} term=${s.term} vote=${s.vote ?? '-'} leader=${s.leader ?? '-'} commit=${s.commit} applied=${s.applied} last=${s.lastIndex}@${s.lastTerm}`,
    );
  }
}

/** The durable log of a node (what a restart would load). */
export function log(c: Cluster, id: NodeId): void {
  const s = c.slot(id).storage;
  c.out.push(`hard state: term=${s.hardState.term} vote=${s.hardState.vote ?? '-'} commit=${s.hardState.commit}`);
  if (s.snapshot !== null) {
    const { meta, data } = s.snapshot;
    c.out.push(`snapshot: ${meta.index}@${meta.term} (${data.byteLength} bytes, ${formatConf(meta.config)})`);
  }
  if (s.entries.length === 0) c.out.push('no entries');
  // Long runs of commands of one term are shown as one line.
  let i = 0;
  while (i < s.entries.length) {
    const e = s.entries[i] as Entry;
    let j = i;
    while (j + 1 < s.entries.length && (s.entries[j + 1] as Entry).term === e.term && (s.entries[j + 1] as Entry).kind === e.kind) j++;
    if (j - i >= 3) {
      const last = s.entries[j] as Entry;
      c.out.push(`${e.index}..${last.index}@${e.term} ${e.kind} ${entryText(e)} .. ${entryText(last)} (${j - i + 1} entries)`);
      i = j + 1;
    } else {
      c.out.push(e.kind === 'empty' ? `${e.index}@${e.term} empty` : `${e.index}@${e.term} ${e.kind === 'normal' ? 'normal ' : ''}${entryText(e)}`);
      i++;
    }
  }
}

export function queued(c: Cluster): void {
  for (const to of c.ids()) for (const m of c.queues.get(to) ?? []) c.out.push(formatMessage(m));
  if (c.out.length === 0) c.out.push('no messages queued');
}

export function printCounts(c: Cluster): void {
  const rows = [...c.counts].sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) c.out.push('no messages sent');
  for (const [t, n] of rows) c.out.push(`${t}: ${n}`);
}
