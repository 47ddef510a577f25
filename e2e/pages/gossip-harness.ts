/**
 * The page of the gossip end-to-end tests (e2e/gossip*.spec.ts): `window.gossipHarness` runs one
 * node of `createNode` in this page (gossip only unless `protocols` says otherwise) and drives it through the public API
 * (`node.members`, `node.crdt`), answering JSON data. A failure is an answer
 * `{ ok: false, error: { code, message } }`, never a thrown error, so its code reaches the test.
 */
import { createNode, type CreateNodeOptions, type KvNode, type MapHandle, type MemberInfo, type NodeMetrics, type NodeStatus, type OrMapEntry, type Result } from '../../src/client/index.ts';

type Options = Pick<
  CreateNodeOptions<'kv'>,
  'cluster' | 'id' | 'peers' | 'transport' | 'storage' | 'signaling' | 'iceServers' | 'tickMs' | 'gossip' | 'secret' | 'protocols' | 'raft' | 'leaderPhiThreshold' | 'handOverOnPageHide'
>;

let node: KvNode | null = null;
let board: MapHandle | null = null;
/** Remote changes of the board seen by this page (a count: each is a merge of news from a peer). */
let remoteChanges = 0;

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

function openBoard(): MapHandle {
  if (board === null) throw new Error('no board: call start first');
  return board;
}

const harness = {
  start: (options: Options) =>
    answer(async () => {
      node = await createNode({ protocols: ['gossip'], ...options });
      board = await node.crdt('board', 'map');
      board.on((_value, origin) => {
        if (origin === 'remote') remoteChanges++;
      });
      return node.id;
    }),
  /** A Raft write (both protocols). */
  write: (key: string, value: string) => answer(() => running().propose({ op: 'write', key, value })),
  members: () => answer<readonly MemberInfo[]>(() => running().members.list()),
  status: () => answer<NodeStatus>(() => running().status()),
  metrics: () => answer<NodeMetrics>(() => running().testing.metrics()),
  set: (key: string, value: string) => answer(() => openBoard().set(key, value)),
  board: () => answer<readonly OrMapEntry[]>(() => openBoard().value()),
  remoteChanges: () => answer(() => Promise.resolve(remoteChanges)),
  block: (peers: readonly string[]) => answer(() => running().testing.block(peers)),
  unblock: () => answer(() => running().testing.unblock()),
  close: () =>
    answer(async () => {
      await node?.close();
      node = null;
      board = null;
    }),
};

export type GossipHarness = typeof harness;

(window as unknown as { gossipHarness: GossipHarness }).gossipHarness = harness;
