/**
 * The peerquorum page of the crdt-browser benchmark (bench/crdt-browser.ts): `window.crdtBench`
 * runs one node of `createNode` (protocols Raft and gossip, a secret, WebRTC) and times, with
 * `performance.timeOrigin + performance.now()` (one clock for every page of the browser), when
 * each update is sent from here and when each update from elsewhere becomes visible here:
 *
 * - the CRDT map `node.crdt('bench', 'map')`: a key is visible when a change the handle's
 *   `observe` hears holds it (what an app would render from, as a Yjs map observer);
 * - the Raft KV: the writer proposes `seq-<run> = i`; here, after each `commit` event, the page
 *   reads the key locally and every i up to the value read is visible (one writer proposing in
 *   order, so the log applies them in order).
 *
 * Failures are answers `{ ok: false, error }`, never thrown, so their text reaches the bench.
 */
import { createNode, type CreateNodeOptions, type KvNode, type MapHandle } from '../../src/client/index.ts';

type StartOptions = Pick<CreateNodeOptions<'kv'>, 'cluster' | 'id' | 'peers' | 'signaling' | 'iceServers' | 'secret' | 'gossip' | 'raft' | 'tickMs' | 'storage'>;
type Answer<T> = { ok: true; value: T } | { ok: false; error: string };

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let node: KvNode | null = null;
let board: MapHandle | null = null;
/** When each map key first showed up here (ms since the epoch). */
const crdtSeen = new Map<string, number>();
/** Per Raft run (`seq-<run>`): when each i became visible here. */
const raftSeen = new Map<string, number[]>();
let raftRun: string | null = null;
/** Per Raft run: when the writer's own propose of each i resolved here (committed and applied on the leader). */
const raftAcked = new Map<string, number[]>();
let reading = false;
let readAgain = false;

async function answer<T>(f: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

function running(): { node: KvNode; board: MapHandle } {
  if (node === null || board === null) throw new Error('no node: call start first');
  return { node, board };
}

/** Reads the current Raft run's key after a commit; one read at a time, again if commits came meanwhile. */
async function readSeq(): Promise<void> {
  if (reading) {
    readAgain = true;
    return;
  }
  reading = true;
  try {
    do {
      readAgain = false;
      const run = raftRun;
      if (node === null || run === null) return;
      const v = await node.read(`seq-${run}`, { consistency: 'local' });
      const at = now();
      const times = raftSeen.get(run) ?? [];
      raftSeen.set(run, times);
      const upTo = v === null ? -1 : Number(v);
      while (times.length <= upTo) times.push(at);
    } while (readAgain);
  } finally {
    reading = false;
  }
}

/** Calls `send(i)` for i in [0, count) every `gapMs` (on a schedule, not after the previous answer); answers the send times. */
async function paced(count: number, gapMs: number, send: (i: number) => Promise<unknown>): Promise<number[]> {
  const sent: number[] = [];
  const pending: Promise<unknown>[] = [];
  const t0 = now();
  for (let i = 0; i < count; i++) {
    const wait = t0 + i * gapMs - now();
    if (wait > 0) await sleep(wait);
    sent.push(now());
    pending.push(send(i));
  }
  await Promise.all(pending);
  return sent;
}

const bench = {
  start: (options: StartOptions) =>
    answer(async () => {
      const n = await createNode({ protocols: ['raft', 'gossip'], transport: 'webrtc', storage: 'indexeddb', ...options });
      node = n;
      const b = await n.crdt('bench', 'map');
      board = b;
      // The keys changed, as the Yjs page's map observer reads `keysChanged`.
      b.observe((change) => {
        const at = now();
        for (const e of change.updated) if (!crdtSeen.has(e.key)) crdtSeen.set(e.key, at);
      });
      n.on('commit', () => void readSeq());
      return n.id;
    }),
  /** Alive members (this node included), the Raft leader and this node's open links. */
  status: () =>
    answer(async () => {
      const { node: n } = running();
      const [members, s] = await Promise.all([n.members.list(), n.status()]);
      return { alive: members.filter((m) => m.state === 'alive').length, leader: s.leader, id: s.id, openLinks: Object.values(s.links).filter((l) => l === 'open').length };
    }),
  /** The gossip host's counters (Readies, durable writes, messages). */
  gossipMetrics: () =>
    answer(async () => {
      const g = (await running().node.testing.metrics()).gossip;
      return g === null ? null : { readies: g.readies, storageWrites: g.storageWrites, messagesSent: g.messagesSent, messagesReceived: g.messagesReceived };
    }),
  /** The Raft driver's durable writes and the time they took (ms, summed). */
  raftMetrics: () =>
    answer(async () => {
      const d = (await running().node.testing.metrics()).driver;
      return { storageWrites: d.storageWrites, storageWriteMs: d.storageWriteMs };
    }),
  /** Sets `${prefix}i` = i in the map, `count` keys `gapMs` apart; answers the send times. */
  writeCrdt: (prefix: string, count: number, gapMs: number) => answer(() => paced(count, gapMs, (i) => running().board.set(`${prefix}${i}`, i))),
  /** When each `${prefix}i` (i < count) showed up here, null if not yet. */
  seenCrdt: (prefix: string, count: number) => answer(() => Promise.resolve(Array.from({ length: count }, (_, i) => crdtSeen.get(`${prefix}${i}`) ?? null))),
  /** Watch the Raft run `run` here (before the writer starts). */
  watchRaft: (run: string) =>
    answer(() => {
      raftRun = run;
      return Promise.resolve();
    }),
  /** Proposes `seq-<run>` = i for i in [0, count), `gapMs` apart; answers the send times. */
  writeRaft: (run: string, count: number, gapMs: number) =>
    answer(() => {
      const acked: number[] = [];
      raftAcked.set(run, acked);
      return paced(count, gapMs, async (i) => {
        await running().node.propose({ op: 'write', key: `seq-${run}`, value: String(i) });
        acked[i] = now();
      });
    }),
  /** When the writer's proposes of run `run` resolved (ms since the epoch). */
  ackedRaft: (run: string) => answer(() => Promise.resolve(raftAcked.get(run) ?? [])),
  seenRaft: (run: string, count: number) =>
    answer(async () => {
      await readSeq();
      const times = raftSeen.get(run) ?? [];
      return Array.from({ length: count }, (_, i) => times[i] ?? null);
    }),
  close: () =>
    answer(async () => {
      await node?.close();
      node = null;
      board = null;
    }),
};

export type CrdtBench = typeof bench;

(window as unknown as { crdtBench: CrdtBench }).crdtBench = bench;
