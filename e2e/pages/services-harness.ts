/**
 * The page of e2e/services.spec.ts: `window.servicesHarness` runs one node of
 * `createNode({ machine: 'services' })` in this page and drives it through the public API
 * (`node.tools`, `node.agents`), answering JSON data; a failure is `{ ok: false, error }`.
 *
 * Every handler run (a tool's, an agent's) is logged to the console as `pq-run {json}` the
 * moment it starts, so that the test sees the runs of a page even after that page is closed.
 */
import { createNode, type CreateNodeOptions, type Result, type ServicesNode } from '../../src/client/index.ts';

type Options = Pick<CreateNodeOptions<'services'>, 'cluster' | 'id' | 'peers' | 'signaling' | 'iceServers' | 'tickMs' | 'secret' | 'services' | 'proposalTimeoutMs'>;

let node: ServicesNode | null = null;

async function answer<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'INTERNAL';
    const reason = typeof e === 'object' && e !== null && 'reason' in e ? ` (${String((e as { reason: unknown }).reason)})` : '';
    return { ok: false, error: { code, message: `${e instanceof Error ? e.message : String(e)}${reason}` } } as Result<T>;
  }
}

function running(): ServicesNode {
  if (node === null) throw new Error('no node: call start first');
  return node;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const harness = {
  start: (options: Options) =>
    answer(async () => {
      node = await createNode({ ...options, machine: 'services', transport: 'webrtc', storage: 'memory' });
      return node.id;
    }),
  status: () => answer(() => running().status()),
  /** Register `name` on this node: its handler logs its run, waits `delayMs`, answers who ran it. */
  registerTool: (name: string, idempotent: boolean, delayMs: number) =>
    answer(async () => {
      const n = running();
      await n.tools.register(
        name,
        async (args, call) => {
          console.log(`pq-run ${JSON.stringify({ kind: 'tool', tool: name, key: call.key, node: n.id, term: call.term })}`);
          await sleep(delayMs);
          return { ranOn: n.id, args };
        },
        { idempotent },
      );
    }),
  call: (tool: string, key: string, timeoutMs: number) =>
    answer(async () => {
      const c = await running().tools.call(tool, { key }, { key, timeoutMs });
      return { key: c.key, state: c.state, result: c.result, starts: c.starts };
    }),
  audit: (key: string) => answer(async () => (await running().tools.audit({ key })).records.map((r) => ({ event: r.event, node: r.node, term: r.term }))),
  /** An agent whose handler logs each task and answers after `delayMs` (never, when negative). */
  registerAgent: (id: string, capabilities: string[], delayMs: number) =>
    answer(async () => {
      const n = running();
      await n.agents.register(id, capabilities, async (task) => {
        console.log(`pq-run ${JSON.stringify({ kind: 'task', task: task.id, token: task.token, agent: id, node: n.id })}`);
        if (delayMs < 0) await new Promise(() => undefined);
        await sleep(delayMs);
        return { doneBy: id };
      });
    }),
  submit: (id: string, capabilities: string[], leaseMs: number) =>
    answer(async () => {
      const t = await running().agents.submit({ job: id }, { id, capabilities, leaseMs });
      return t.id;
    }),
  task: (id: string) => answer(() => running().agents.task(id)),
};

declare global {
  interface Window {
    servicesHarness: typeof harness;
  }
}

window.servicesHarness = harness;
export type ServicesHarness = typeof harness;
