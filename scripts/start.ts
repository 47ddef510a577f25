/**
 * `npm run sim:trace` (`npm start` before the browser demo): a 5-node Raft cluster simulated
 * in this process, in virtual time, printed as a readable trace. It shows an election, commands being committed,
 * the leader crashing, a new leader elected by the survivors, and the crashed node coming back
 * and catching up from its durable log.
 *
 * Everything here goes through the public engine API (`RaftNode`, the Ready contract): each
 * node persists its Ready to a memory "disk" before sending, then applies committed commands.
 */
import { createPrng } from '../src/core/prng.ts';
import { RaftNode } from '../src/core/raft/raft-node.ts';
import type { Message } from '../src/core/raft/messages.ts';
import type { Entry, HardState } from '../src/core/raft/types.ts';

const tickMs = 10;
const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
const prng = createPrng(Number(process.env['SEED'] ?? 7));
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Disk {
  hardState: HardState;
  entries: Entry[];
}

interface Member {
  node: RaftNode;
  disk: Disk;
  alive: boolean;
  state: Map<string, string>;
  role: string;
  term: number;
  leader: string | null;
}

let nowMs = 0;
const members = new Map<string, Member>();
/** Messages in flight, delivered one tick after they are sent. */
let inFlight: Message[] = [];

function log(who: string, text: string): void {
  console.log(`${String(nowMs).padStart(6)} ms  ${who.padEnd(3)}  ${text}`);
}

function boot(id: string, disk: Disk): RaftNode {
  return new RaftNode({ id, voters: ids, prng }, { hardState: disk.hardState, entries: disk.entries.slice() });
}

for (const id of ids) {
  const disk: Disk = { hardState: { term: 0, vote: null, commit: 0 }, entries: [] };
  members.set(id, { node: boot(id, disk), disk, alive: true, state: new Map(), role: 'follower', term: 0, leader: null });
}

function handleReady(id: string, m: Member): void {
  while (m.node.hasReady()) {
    const rd = m.node.ready();
    // 1. Persist before anything that depends on it leaves the node.
    if (rd.hardState !== null) m.disk.hardState = rd.hardState;
    for (const e of rd.entries) {
      m.disk.entries.length = e.index - 1;
      m.disk.entries.push(e);
    }
    // 2. Send.
    inFlight.push(...rd.messages);
    // 3. Apply.
    for (const e of rd.committedEntries) {
      if (e.kind !== 'normal') continue;
      const [key, value] = decoder.decode(e.data).split('=') as [string, string];
      m.state.set(key, value);
      if (m.role === 'leader') log(id, `committed #${e.index} (term ${e.term}): set ${key} = ${value}`);
    }
    if (rd.softState !== null) {
      const { role, term, leader } = rd.softState;
      if (role !== m.role || term !== m.term) {
        const detail = role === 'leader' ? `is LEADER of term ${term}` : `is ${role} in term ${term}`;
        if (role !== 'follower' || m.role !== 'follower') log(id, detail);
      }
      m.role = role;
      m.term = term;
      m.leader = leader;
    }
    m.node.advance();
  }
}

function step(ticks: number): void {
  for (let i = 0; i < ticks; i++) {
    nowMs += tickMs;
    const deliver = inFlight;
    inFlight = [];
    for (const msg of deliver) {
      const to = members.get(msg.to);
      if (to !== undefined && to.alive) to.node.step(msg);
    }
    for (const [id, m] of members) {
      if (!m.alive) continue;
      m.node.tick();
      handleReady(id, m);
    }
  }
}

function leader(): [string, Member] | undefined {
  let best: [string, Member] | undefined;
  for (const [id, m] of members) {
    if (m.alive && m.role === 'leader' && (best === undefined || m.term > best[1].term)) best = [id, m];
  }
  return best;
}

function waitForLeader(limitTicks: number): [string, Member] {
  for (let i = 0; i < limitTicks; i++) {
    const l = leader();
    if (l !== undefined) return l;
    step(1);
  }
  throw new Error('no leader elected');
}

function propose(key: string, value: string): void {
  const [id, m] = waitForLeader(200);
  const res = m.node.propose(encoder.encode(`${key}=${value}`));
  if (!res.ok) log(id, `proposal refused: ${res.error.message}`);
  handleReady(id, m);
}

console.log('peerquorum: a simulated 5-node Raft cluster (virtual time, one tick = 10 ms)\n');
console.log('-- every node starts as a follower; the first whose election timeout expires campaigns');
const [first] = waitForLeader(300);
step(5);

console.log(`\n-- ${first} leads; clients write through it, a write commits once a majority stored it`);
for (const [k, v] of [['color', 'blue'], ['size', 'large'], ['owner', 'ada']] as const) {
  propose(k, v);
  step(3);
}

console.log(`\n-- ${first} crashes: its process is gone, only its disk survives`);
const crashed = members.get(first) as Member;
crashed.alive = false;
crashed.role = 'follower';
log(first, 'CRASHED');
const [second] = waitForLeader(300);
step(3);

console.log(`\n-- the four survivors elected ${second}; writes go on`);
for (const [k, v] of [['color', 'green'], ['shape', 'round']] as const) {
  propose(k, v);
  step(3);
}

console.log(`\n-- ${first} restarts from its durable term, vote and log, and catches up`);
crashed.node = boot(first, crashed.disk);
crashed.alive = true;
crashed.state = new Map();
log(first, `RESTARTED with term ${crashed.disk.hardState.term} and ${crashed.disk.entries.length} log entries`);
step(30);

console.log('\n-- final state of every node');
for (const [id, m] of members) {
  const s = m.node.status();
  const kv = [...m.state].map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`  ${id}  ${s.role.padEnd(9)} term ${s.term}  commit ${s.commit}  { ${kv} }`);
}
const states = [...members.values()].map((m) => JSON.stringify([...m.state].sort()));
console.log(states.every((s) => s === states[0]) ? '\nall five nodes applied the same commands in the same order' : '\nnodes DISAGREE');
console.log('next: `npm run sim -- --seeds 100` attacks the same engine with faults and checks every run');
