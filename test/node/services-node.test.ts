/**
 * What this proves: a Node node runs the coordination services machine (`machine: 'services'`)
 * behind the same API as a tab's (src/client/services-node.ts) across a `worker_threads`
 * boundary: its KV part commits and reads, and a tool handler registered on the app's thread
 * (a comlink proxy over a Node MessagePort) is called by the node's worker and its committed
 * outcome carries the handler's result. A cluster of one has no one to hand over to: its
 * leader's `stop` says it was leader and was not deposed.
 */
import { describe, expect, it } from 'vitest';
import { createNode } from '../../src/node/index.ts';

describe('a Node node with the services machine', () => {
  it('commits KV writes and runs a tool handler of the app thread', async () => {
    const node = await createNode({ cluster: 'svc', id: 'n1', peers: ['n1'], storage: 'memory', machine: 'services' });
    try {
      for (let i = 0; i < 400 && (await node.status()).role !== 'leader'; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await node.propose({ op: 'write', key: 'a', value: 'b' })).toEqual({ op: 'write' });
      expect(await node.read('a')).toBe('b');
      await node.tools.register('echo', async (args) => ({ echoed: args }));
      const call = await node.tools.call('echo', { x: 1 }, { key: 'k1' });
      expect(call.state).toBe('completed');
      expect(call.result).toEqual({ echoed: { x: 1 } });
    } finally {
      expect(await node.stop()).toEqual({ wasLeader: true, deposed: false });
    }
  });
});
