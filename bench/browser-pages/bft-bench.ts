/**
 * The page of the BFT benchmark (bench/bft.ts): `window.bftBench` runs one node of
 * `createNode({ protocol: 'bft' })` (a PBFT replica and client in this page's worker) and drives
 * it through the public API only. `run(...)` is a closed loop: it keeps `window` proposals of
 * distinct keys outstanding (the node's client sends one at a time, PBFT §4.1; the others wait in
 * its queue inside the worker, so the next one leaves without a trip through the page) until
 * `stopAtMs`, recording when each was submitted and answered on the browser's one clock
 * (`performance.timeOrigin + performance.now()`, shared by every page of the browser). View
 * changes this node sees are recorded on the same clock.
 */
import { createNode, type CreateNodeOptions, type KvNode, type Result } from '../../src/client/index.ts';

type Options = Pick<CreateNodeOptions<'kv'>, 'cluster' | 'id' | 'peers' | 'storage' | 'signaling' | 'iceServers' | 'tickMs' | 'secret' | 'proposalTimeoutMs' | 'bftClients'>;

const now = (): number => performance.timeOrigin + performance.now();

let node: KvNode | null = null;
/** [submittedAt, answeredAt] per completed proposal of the current run, in completion order. */
let done: [number, number][] = [];
let failures = 0;
let running = false;
const viewChanges: { view: number; primary: string; at: number }[] = [];

async function answer<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'INTERNAL';
    return { ok: false, error: { code, message: e instanceof Error ? e.message : String(e) } } as Result<T>;
  }
}

function live(): KvNode {
  if (node === null) throw new Error('no node: call start first');
  return node;
}

/** One proposer of the closed loop: propose, record, again, until `stopAtMs`. */
async function proposer(n: KvNode, prefix: string, lane: number, stopAtMs: number): Promise<void> {
  for (let i = 0; now() < stopAtMs && running; i++) {
    const t0 = now();
    try {
      await n.propose({ op: 'write', key: `${prefix}-${lane}-${i % 64}`, value: String(i) });
      done.push([t0, now()]);
    } catch {
      failures++;
    }
  }
}

const bench = {
  start: (options: Options) =>
    answer(async () => {
      node = await createNode({ protocol: 'bft', transport: 'webrtc', ...options });
      node.on('bft-view-changed', (e) => viewChanges.push({ view: e.view, primary: e.primary, at: now() }));
      return node.id;
    }),
  status: () =>
    answer(async () => {
      const s = await live().status();
      return { view: s.bft?.view ?? -1, primary: s.bft?.primary ?? null, lastExecutedSeq: s.bft?.lastExecutedSeq ?? -1, openLinks: Object.values(s.links).filter((l) => l === 'open').length };
    }),
  /** Start a closed loop of `window` proposers (answers at once; `results` collects). */
  run: (prefix: string, window: number, stopAtMs: number) =>
    answer(async () => {
      const n = live();
      done = [];
      failures = 0;
      running = true;
      for (let lane = 0; lane < window; lane++) void proposer(n, prefix, lane, stopAtMs);
      return now();
    }),
  results: () => answer(async () => ({ done, failures, viewChanges })),
  stop: () => answer(async () => void (running = false)),
  now: () => answer(async () => now()),
  metrics: () => answer(async () => (await live().testing.metrics()) as unknown),
  close: () =>
    answer(async () => {
      running = false;
      await node?.close();
      node = null;
    }),
};

export type BftBench = typeof bench;

(window as unknown as { bftBench: BftBench }).bftBench = bench;
