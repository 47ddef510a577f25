/**
 * The page of the services benchmark (bench/services.ts): `window.servicesBench` runs one node
 * of `createNode({ machine: 'services' })` in this page's worker and drives it through the
 * public API only (`node.tools`, `node.agents`).
 *
 * - `run(...)` is a closed loop of tool calls: `window` calls of the no-op tool outstanding at
 *   once, each with a fresh key (so each is a new exactly-once call: requested, started, run
 *   once by the leader, completed, all committed), until `stopAtMs`; it records when each was
 *   made and when its committed outcome came back.
 * - `registerAgent(...)` registers an agent whose handler records when each task reached it and
 *   then holds the task for ever (never answers): the benchmark closes its tab and times the
 *   task's start on another tab's agent.
 * Times are on the browser's one clock (`performance.timeOrigin + performance.now()`, shared by
 * every page of the browser).
 */
import { createNode, type CreateNodeOptions, type Result, type ServicesNode } from '../../src/client/index.ts';

type Options = Pick<CreateNodeOptions<'services'>, 'cluster' | 'id' | 'peers' | 'storage' | 'signaling' | 'iceServers' | 'tickMs' | 'secret' | 'services' | 'proposalTimeoutMs'>;

const now = (): number => performance.timeOrigin + performance.now();

let node: ServicesNode | null = null;
/** [calledAt, answeredAt] per call answered `completed` in the current run, in answer order. */
let done: [number, number][] = [];
/** Calls answered with another state, or refused. */
let failures = 0;
let lastFailure = '';
let running = false;
/** Calls made and not yet answered (a stopped loop's last calls are still out for a while). */
let outstanding = 0;
/** Leader and role changes this node saw since start: [leader id or this node's role, term, at]. */
const leaders: [string | null, number, number][] = [];
/** When each task reached one of this page's agents: [task, token, agent, at]. */
const taskRuns: [string, number, string, number][] = [];

async function answer<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'INTERNAL';
    return { ok: false, error: { code, message: e instanceof Error ? e.message : String(e) } } as Result<T>;
  }
}

function live(): ServicesNode {
  if (node === null) throw new Error('no node: call start first');
  return node;
}

/** One lane of the closed loop: call, record, again, until `stopAtMs`. */
async function caller(n: ServicesNode, prefix: string, lane: number, stopAtMs: number): Promise<void> {
  for (let i = 0; now() < stopAtMs && running; i++) {
    const t0 = now();
    outstanding++;
    try {
      const c = await n.tools.call('noop', null, { key: `${prefix}-${n.id}-${lane}-${i}`, timeoutMs: 30_000 });
      if (c.state === 'completed') done.push([t0, now()]);
      else {
        failures++;
        lastFailure = c.state;
      }
    } catch (e) {
      failures++;
      lastFailure = e instanceof Error ? e.message : String(e);
    } finally {
      outstanding--;
    }
  }
}

const bench = {
  start: (options: Options) =>
    answer(async () => {
      node = await createNode({ ...options, machine: 'services', transport: 'webrtc' });
      node.on('leader', (e) => leaders.push([e.leader, e.term, now()]));
      node.on('role', (e) => leaders.push([`${e.role}`, e.term, now()]));
      // The no-op tool, on every node: whichever leads runs it.
      await node.tools.register('noop', () => null);
      return node.id;
    }),
  status: () =>
    answer(async () => {
      const s = await live().status();
      return { role: s.role, openLinks: Object.values(s.links).filter((l) => l === 'open').length };
    }),
  /** Start a closed loop of `window` callers (answers at once; `results` collects). */
  run: (prefix: string, window: number, stopAtMs: number) =>
    answer(async () => {
      const n = live();
      done = [];
      failures = 0;
      running = true;
      for (let lane = 0; lane < window; lane++) void caller(n, prefix, lane, stopAtMs);
      return now();
    }),
  results: () => answer(async () => ({ done, failures, lastFailure, outstanding, leaders })),
  /** The services runtime's counters (takeovers, starts and indeterminate marks proposed...). */
  metrics: () => answer(async () => await live().services.metrics()),
  stop: () => answer(async () => void (running = false)),
  now: () => answer(async () => now()),
  /** An agent that records each task reaching it and holds it for ever. */
  registerAgent: (id: string, capabilities: string[]) =>
    answer(async () => {
      await live().agents.register(id, capabilities, (task) => {
        taskRuns.push([task.id, task.token, id, now()]);
        return new Promise(() => undefined);
      });
    }),
  submit: (id: string, capabilities: string[], leaseMs: number) => answer(async () => (await live().agents.submit({ job: id }, { id, capabilities, leaseMs })).id),
  taskRuns: () => answer(async () => taskRuns),
  close: () =>
    answer(async () => {
      running = false;
      await node?.close();
      node = null;
    }),
};

export type ServicesBench = typeof bench;

(window as unknown as { servicesBench: ServicesBench }).servicesBench = bench;
