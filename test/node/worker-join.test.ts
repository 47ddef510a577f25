/**
 * What this proves: a Node node whose id is not one of `peers` joins the running cluster through
 * them (src/node/node-options.ts: no voters, `joinVia` the peers), in worker threads over
 * WebSocket on 127.0.0.1 with file logs: it is added as a learner, promoted to voter once it
 * keeps up, and reads what the cluster committed before and after it joined.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type NodeKvNode } from '../../src/node/index.ts';
import { stopAllAndRemove, untilWithin } from './node-fixtures.ts';

let root = '';
const live: NodeKvNode[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pq-node-join-'));
});

afterAll(() => stopAllAndRemove(live, root));

const until = untilWithin(60_000);

describe('a Node node outside peers', () => {
  it('joins the running cluster as a learner and is promoted to voter', async () => {
    const secret = 'the join test secret, 16+ bytes';
    const n1 = await createNode({ cluster: 'join', id: 'n1', storage: { dir: join(root, 'n1') }, listen: '127.0.0.1:0', secret });
    live.push(n1);
    await until('n1 leads its cluster of one', async () => ((await n1.status()).role === 'leader' ? true : undefined));
    expect(await n1.propose({ op: 'write', key: 'before', value: 'b' })).toEqual({ op: 'write' });

    const n2 = await createNode({ cluster: 'join', id: 'n2', peers: ['n1'], storage: { dir: join(root, 'n2') }, peerAddresses: { n1: n1.address as string }, secret });
    live.push(n2);
    await until('n2 a voter', async () => ((await n1.status()).voters.includes('n2') ? true : undefined));
    expect(await n1.propose({ op: 'write', key: 'after', value: 'a' })).toEqual({ op: 'write' });
    expect(await n2.read('before')).toBe('b');
    expect(await n2.read('after')).toBe('a');
  });
});
