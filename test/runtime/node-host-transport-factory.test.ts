/**
 * What this proves about how a node gets its transport (src/runtime/node-host.ts over
 * src/io/transport/factory.ts), in Node with memory storage: a factory that Node code supplies
 * (`NodeHostParts.transportFactory`) is called once per node with the node's context (cluster,
 * id, its peers) and its transport is the one the node uses, instead of the one the options
 * name (here `broadcast`): three nodes on `memoryTransport(hub)` elect a leader and commit a
 * write. A transport made already (`parts.transport`) wins over a factory. What a factory
 * answers is checked: something that is not a transport, or a transport for another node
 * (closed then), fails the start with CONFIG; so does a transport kind nobody knows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { memoryTransport, type TransportContext, type TransportFactory } from '../../src/io/transport/factory.ts';
import { MemoryHub, MemoryTransport } from '../../src/io/transport/memory-transport.ts';
import type { Transport } from '../../src/io/transport/transport.ts';
import { decodeKvResult, encodeKvCommand } from '../../src/machines/kv.ts';
import { NodeError } from '../../src/runtime/errors.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { TransportSpec, WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';

const ids = ['a', 'b', 'c'];
let running: NodeHost[] = [];

afterEach(async () => {
  await Promise.all(running.map((h) => h.stop().catch(() => undefined)));
  running = [];
});

function options(id: string, n: number, transport: TransportSpec = { kind: 'broadcast' }): WorkerStartOptions {
  return { cluster: 'factory', id, voters: ids, transport, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, seed: n + 1 };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startRefused(factory: TransportFactory, spec?: TransportSpec): Promise<NodeError> {
  try {
    running.push(await NodeHost.start(options('a', 0, spec), { storage: new MemoryRaftStorage(), transportFactory: factory }));
  } catch (e) {
    expect(e).toBeInstanceOf(NodeError);
    return e as NodeError;
  }
  throw new Error('the node started');
}

describe('NodeHost with a transport factory', () => {
  it('makes each node its transport with the supplied factory, and the cluster works over it', async () => {
    const hub = new MemoryHub();
    const onHub = memoryTransport(hub);
    const contexts: TransportContext[] = [];
    const factory: TransportFactory = (context) => {
      contexts.push(context);
      return onHub(context);
    };
    for (const [n, id] of ids.entries()) {
      running.push(await NodeHost.start(options(id, n), { storage: new MemoryRaftStorage(), transportFactory: factory }));
    }
    expect(contexts.map((c) => ({ ...c }))).toEqual(ids.map((self) => ({ cluster: 'factory', self, peers: ids })));
    for (const host of running) expect(host.links.inner).toBeInstanceOf(MemoryTransport);

    const leader = await until('a leader', () => running.find((h) => h.status().role === 'leader'));
    const result = decodeKvResult(await leader.propose(encodeKvCommand({ op: 'write', key: 'k', value: 'v' })));
    expect(result).toEqual({ ok: true, value: { op: 'write' } });
    expect(await leader.read('linearizable', 'k')).toBe('v');
    expect(leader.metrics().transport.framesSent).toBeGreaterThan(0);
  });

  it('uses a transport made already over a factory', async () => {
    const hub = new MemoryHub();
    let calls = 0;
    const factory: TransportFactory = (context) => {
      calls++;
      return memoryTransport(hub)(context);
    };
    const made = hub.connect('a');
    running.push(await NodeHost.start({ ...options('a', 0), voters: ['a'] }, { storage: new MemoryRaftStorage(), transport: made, transportFactory: factory }));
    expect(calls).toBe(0);
    expect(running[0]?.links.inner).toBe(made);
  });

  it('refuses with CONFIG what a factory answers when it is not a transport for this node', async () => {
    const notOne = await startRefused(() => ({ self: 'a' }) as unknown as Transport);
    expect(notOne.code).toBe('CONFIG');
    expect(notOne.message).toContain('the supplied transport factory');

    const other = new MemoryHub().connect('zz');
    let closed = false;
    const close = other.close.bind(other);
    other.close = async () => {
      closed = true;
      await close();
    };
    const wrongNode = await startRefused(() => other);
    expect(wrongNode.code).toBe('CONFIG');
    expect(closed).toBe(true);
  });

  it('refuses a transport kind nobody knows with CONFIG', async () => {
    try {
      running.push(await NodeHost.start(options('a', 0, { kind: 'carrier-pigeon' } as unknown as TransportSpec), { storage: new MemoryRaftStorage() }));
      throw new Error('the node started');
    } catch (e) {
      expect(e).toBeInstanceOf(NodeError);
      expect((e as NodeError).code).toBe('CONFIG');
      expect((e as NodeError).message).toContain('unknown transport');
    }
  });
});
