/**
 * The page of the BFT end-to-end test (e2e/bft.spec.ts): `window.bftHarness` runs one node of
 * `createNode({ protocol: 'bft' })` in this page and drives it through the public API (`propose`,
 * `read`, `status`, `node.bft.vote`, `node.bft.onVote`), answering JSON data; a failure is an
 * answer `{ ok: false, error: { code, message } }` so its code reaches the test. `lie(value)` is
 * the "modified page": from then on this member answers every vote with `value`, whatever it is
 * asked. `setByzantine(mode)` turns on the node's fault injector (tests only: its replica lies on
 * the wire, src/runtime/bft-fault-injector.ts), for e2e/bft-byzantine.spec.ts.
 */
import { createNode, type BftByzantineMode, type BftVoteResult, type CreateNodeOptions, type KvNode, type NodeStatus, type Result } from '../../src/client/index.ts';

type Options = Pick<CreateNodeOptions<'kv'>, 'cluster' | 'id' | 'peers' | 'transport' | 'storage' | 'signaling' | 'iceServers' | 'tickMs' | 'secret' | 'proposalTimeoutMs'>;

let node: KvNode | null = null;

async function answer<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'INTERNAL';
    return { ok: false, error: { code, message: e instanceof Error ? e.message : String(e) } } as Result<T>;
  }
}

function running(): KvNode {
  if (node === null) throw new Error('no node: call start first');
  return node;
}

const harness = {
  start: (options: Options) =>
    answer(async () => {
      node = await createNode({ protocol: 'bft', ...options });
      return node.id;
    }),
  write: (key: string, value: string) => answer(async () => (await running().propose({ op: 'write', key, value })).op),
  read: (key: string) => answer(() => running().read(key)),
  status: () => answer<NodeStatus>(() => running().status()),
  vote: (proposal: unknown, timeoutMs: number) => answer<BftVoteResult>(() => running().bft.vote(proposal, { timeoutMs })),
  lie: (value: unknown) => answer(async () => void (await running().bft.onVote(() => value))),
  setByzantine: (mode: BftByzantineMode) => answer(() => running().bft.setByzantine(mode)),
  close: () =>
    answer(async () => {
      await node?.close();
      node = null;
    }),
};

export type BftHarness = typeof harness;

(window as unknown as { bftHarness: BftHarness }).bftHarness = harness;
