/**
 * What this proves about transport factories (src/io/transport/factory.ts), in Node: each
 * built-in factory makes its transport for the node the context names, with the options it was
 * given (`memoryTransport(hub)` attaches to that hub, `broadcastChannelTransport()` names its
 * channels after the context's cluster, `dataChannelTransport()` loads its module on the call and
 * answers a DataChannelTransport); `memoryTransport` is also a `TransportListener` (its trivial
 * `listen` answers an address naming the node, and closes), while the others are not; and
 * `isTransport` tells a transport from what merely looks like one, as a host checks what
 * someone else's factory returned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BroadcastChannelTransport } from '../../src/io/transport/broadcast-channel-transport.ts';
import { DataChannelTransport } from '../../src/io/transport/data-channel-transport.ts';
import {
  broadcastChannelTransport,
  dataChannelTransport,
  isTransport,
  isTransportListener,
  memoryTransport,
  type TransportContext,
} from '../../src/io/transport/factory.ts';
import { MemoryHub, MemoryTransport } from '../../src/io/transport/memory-transport.ts';
import type { Transport } from '../../src/io/transport/transport.ts';

const opened: Transport[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});

function context(self: string, cluster = 'factory-test'): TransportContext {
  return { cluster, self, peers: ['a', 'b'] };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('transport factories', () => {
  it('memoryTransport attaches each node it makes to the hub, with its options', async () => {
    const hub = new MemoryHub();
    const factory = memoryTransport(hub, { linksMax: 1 });
    const a = await factory(context('a'));
    const b = await factory(context('b'));
    const c = await factory(context('c'));
    opened.push(a, b, c);
    expect(a).toBeInstanceOf(MemoryTransport);
    expect(a.self).toBe('a');
    expect(Object.fromEntries(a.links())).toEqual({ b: 'open' });
    expect(a.stats.linksRefused).toBe(1);
    const got: string[] = [];
    b.onFrame((from, frame) => got.push(`${from}:${frame[0] as number}`));
    a.send('b', Uint8Array.of(7));
    await until('the frame', () => got.length === 1);
    expect(got).toEqual(['a:7']);
  });

  it('memoryTransport is also a listener: listen answers an address naming the node', async () => {
    const factory = memoryTransport(new MemoryHub());
    expect(isTransportListener(factory)).toBe(true);
    if (!isTransportListener(factory)) return;
    const listening = await factory.listen(context('n/1', 'my cluster'));
    expect(listening.address).toBe('memory:my%20cluster/n%2F1');
    await expect(listening.close()).resolves.toBeUndefined();
  });

  it('broadcastChannelTransport makes BroadcastChannel transports named after the cluster', async () => {
    const factory = broadcastChannelTransport({ linksMax: 8 });
    expect(isTransportListener(factory)).toBe(false);
    const cluster = `factory-bc-${Math.floor(Math.random() * 1e9)}`;
    const a = await factory(context('a', cluster));
    const b = await factory(context('b', cluster));
    opened.push(a, b);
    expect(a).toBeInstanceOf(BroadcastChannelTransport);
    await until('a to hear b', () => a.links().get('b') === 'open');
    const got: string[] = [];
    b.onFrame((from, frame) => got.push(`${from}:${frame[0] as number}`));
    a.send('b', Uint8Array.of(3));
    await until('the frame', () => got.length === 1);
    expect(got).toEqual(['a:3']);
  });

  it('dataChannelTransport answers a DataChannelTransport for the node, loaded on the call', async () => {
    const factory = dataChannelTransport({ linksMax: 2 });
    expect(isTransportListener(factory)).toBe(false);
    const made = factory(context('a'));
    expect(made).toBeInstanceOf(Promise);
    const t = await made;
    opened.push(t);
    expect(t).toBeInstanceOf(DataChannelTransport);
    expect(t.self).toBe('a');
    expect(t.stats.linksRefused).toBe(0);
  });

  it('isTransport accepts transports and refuses what only looks like one', async () => {
    const t = await memoryTransport(new MemoryHub())(context('a'));
    opened.push(t);
    expect(isTransport(t)).toBe(true);
    const { send, onFrame, onLinkState, links, close } = t;
    const shape = { self: 'a', stats: t.stats, send, onFrame, onLinkState, links, close };
    expect(isTransport(shape)).toBe(true);
    expect(isTransport({ ...shape, self: 7 })).toBe(false);
    expect(isTransport({ ...shape, send: undefined })).toBe(false);
    expect(isTransport({ ...shape, stats: null })).toBe(false);
    expect(isTransport(null)).toBe(false);
    expect(isTransport('a transport')).toBe(false);
  });
});
