/**
 * The WebSocket transport under faults, with real sockets on 127.0.0.1: (1) a peer that stops
 * and comes back on the same port (not knowing our address) is dialled again after a backoff,
 * and frames flow both ways; (2) frames sent while it is down wait in a bounded queue that drops
 * the OLDEST and counts them, and the survivors arrive once it is back; (3) a connection that
 * sends text, a binary message that is not a hello, a hello naming someone else, a message
 * longer than frameBytesMax (before or after its hello), or nothing at all within
 * helloTimeoutMs is closed and counted, its input never reaches the frame handler, and a good
 * link beside it keeps working; (4) a taken port rejects, and the factory's listener answers
 * the address and, closed, refuses new dials while the links made live on. Plus the hello
 * encoding and the backoff bounds by table. Every transport and socket opened here is closed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPrng } from '../../src/core/prng.ts';
import { reconnectDelayMs } from '../../src/io/transport/websocket-backoff.ts';
import { webSocketTransport, WebSocketTransport, type WebSocketTransportOptions } from '../../src/io/transport/websocket-transport.ts';
import { webSocketTransportFactory } from '../../src/io/transport/websocket-factory.ts';
import { encodeWsHello, parseWsHello } from '../../src/io/transport/websocket-wire.ts';

const frameBytesMax = 16 * 1024;
const host = '127.0.0.1';
const opened: { close(): unknown }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});

async function until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function options(self: string, port: number, extra: Partial<WebSocketTransportOptions> = {}): WebSocketTransportOptions {
  return { self, listen: { host, port }, frameBytesMax, backoff: { baseMs: 10, maxMs: 80 }, prng: createPrng(7), ...extra };
}

async function node(self: string, port = 0, extra: Partial<WebSocketTransportOptions> = {}): Promise<WebSocketTransport> {
  const t = await webSocketTransport(options(self, port, extra));
  opened.push(t);
  return t;
}

/** A port that was free a moment ago (a node listened on it and closed). */
async function freePort(): Promise<number> {
  const t = await webSocketTransport({ self: 'probe', listen: { host, port: 0 } });
  const port = Number(new URL(t.address as string).port);
  await t.close();
  return port;
}

/** A raw client socket, closed by afterEach if the test leaves it open. */
async function rawClient(url: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  opened.push({ close: () => (ws.readyState === WebSocket.CLOSED ? undefined : (ws.terminate(), closed)) });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, closed };
}

describe('WebSocket transport: a peer that restarts', () => {
  it('is dialled again after it comes back on its port, and frames flow both ways', async () => {
    const portB = await freePort();
    const a = await node('a', 0, { peers: { b: `ws://${host}:${portB}` } });
    const atA: string[] = [];
    a.onFrame((from, f) => atA.push(`${from}:${f[0] as number}`));
    const b1 = await node('b', portB, { peers: { a: a.address as string } });
    b1.onFrame(() => undefined);
    await until('a-b open', () => a.links().get('b') === 'open');
    await b1.close();
    await until('a to see b go', () => a.links().get('b') === 'closed');
    const dialsBefore = a.stats.dials;

    // b's next life does not know a's address, so only a's redial can bring the link back. Its
    // frame handler is registered before the event loop can accept that dial.
    const b2 = new WebSocketTransport(options('b', portB));
    opened.push(b2);
    const atB: string[] = [];
    b2.onFrame((from, f) => atB.push(`${from}:${f[0] as number}`));
    await b2.ready();
    await until('a-b open again', () => a.links().get('b') === 'open' && b2.links().get('a') === 'open');
    a.send('b', Uint8Array.of(1));
    b2.send('a', Uint8Array.of(2));
    await until('both frames', () => atA.length === 1 && atB.length === 1);
    expect(atA).toEqual(['b:2']);
    expect(atB).toEqual(['a:1']);
    expect(a.stats.dials).toBeGreaterThan(dialsBefore);
  });

  it('queues frames for a peer that is down, drops the oldest beyond the bound, delivers the rest when it is up', async () => {
    const portB = await freePort();
    const a = await node('a', 0, { peers: { b: `ws://${host}:${portB}` }, sendQueueFramesMax: 3 });
    for (let i = 1; i <= 5; i++) a.send('b', Uint8Array.of(i));
    expect(a.stats.framesDroppedQueueFull).toBe(2);
    expect(a.stats.framesDropped).toBe(2);
    const b = new WebSocketTransport(options('b', portB));
    opened.push(b);
    const atB: number[] = [];
    b.onFrame((_from, f) => atB.push(f[0] as number));
    await b.ready();
    await until('three frames', () => atB.length === 3);
    await new Promise((r) => setTimeout(r, 30));
    expect(atB).toEqual([3, 4, 5]);
    expect(a.stats.framesSent).toBe(3);
  });
});

describe('WebSocket transport: hostile input', () => {
  async function victim(): Promise<{ a: WebSocketTransport; atA: string[]; b: WebSocketTransport }> {
    const a = await node('a', 0, { helloTimeoutMs: 200 });
    const atA: string[] = [];
    a.onFrame((from, f) => atA.push(`${from}:${f.byteLength}`));
    const b = await node('b', 0, { peers: { a: a.address as string } });
    await until('b-a open', () => a.links().get('b') === 'open');
    return { a, atA, b };
  }

  async function goodLinkStillWorks(a: WebSocketTransport, atA: string[], b: WebSocketTransport): Promise<void> {
    b.send('a', new Uint8Array(5));
    await until('b to reach a', () => atA.length === 1);
    expect(atA).toEqual(['b:5']);
  }

  const hello = (from: string, to: string): Uint8Array => encodeWsHello({ kind: 'hello', from, to });
  const cases: [string, (ws: WebSocket) => void][] = [
    ['a text message', (ws) => ws.send('hello?')],
    ['a binary message that is not a hello', (ws) => ws.send(Uint8Array.of(1, 2, 3))],
    ['a hello to someone else', (ws) => ws.send(hello('z', 'not-a'))],
    ['a hello claiming to be a itself', (ws) => ws.send(hello('a', 'a'))],
    ['an ack where a hello belongs', (ws) => ws.send(encodeWsHello({ kind: 'ack', from: 'z', to: 'a' }))],
  ];
  for (const [name, misbehave] of cases) {
    it(`closes and counts a connection that sends ${name}`, async () => {
      const { a, atA, b } = await victim();
      const { ws, closed } = await rawClient(a.address as string);
      misbehave(ws);
      expect(await closed).toBe(1003);
      expect(a.stats.connectionsClosedGarbage).toBe(1);
      expect(a.links().has('z')).toBe(false);
      await goodLinkStillWorks(a, atA, b);
    });
  }

  it('closes and counts a connection that says nothing within helloTimeoutMs', async () => {
    const { a, atA, b } = await victim();
    const { closed } = await rawClient(a.address as string);
    expect(await closed).toBe(1003);
    expect(a.stats.connectionsClosedGarbage).toBe(1);
    await goodLinkStillWorks(a, atA, b);
  });

  for (const afterHello of [false, true]) {
    it(`closes and counts a message longer than frameBytesMax ${afterHello ? 'after' : 'instead of'} a hello, without delivering it`, async () => {
      const { a, atA, b } = await victim();
      const { ws, closed } = await rawClient(a.address as string);
      if (afterHello) {
        ws.send(hello('z', 'a'));
        await until('z to be open at a', () => a.links().get('z') === 'open');
        ws.send(new Uint8Array(frameBytesMax));
        await until('the frame at the limit', () => atA.length === 1);
      }
      ws.send(new Uint8Array(frameBytesMax + 1));
      expect(await closed).toBe(1009);
      expect(a.stats.connectionsClosedOversize).toBe(1);
      expect(a.stats.connectionsClosedGarbage).toBe(0);
      expect(atA).toEqual(afterHello ? [`z:${frameBytesMax}`] : []);
      if (afterHello) await until('z to be closed at a', () => a.links().get('z') === 'closed');
      atA.length = 0;
      await goodLinkStillWorks(a, atA, b);
    });
  }

  it('refuses connections beyond pendingConnectionsMax while they wait for their hello', async () => {
    const a = await node('a', 0, { pendingConnectionsMax: 2, helloTimeoutMs: 5000 });
    await rawClient(a.address as string);
    await rawClient(a.address as string);
    const third = await rawClient(a.address as string);
    await third.closed;
    expect(a.stats.connectionsRefused).toBe(1);
  });
});

describe('WebSocket transport: listening', () => {
  it('rejects when its port is taken, and leaves nothing open', async () => {
    const a = await node('a');
    const port = Number(new URL(a.address as string).port);
    await expect(webSocketTransport(options('b', port))).rejects.toThrow(/EADDRINUSE/);
  });

  it('as a factory and listener: answers its address; after the listener closes, links made live on and new dials fail', async () => {
    const factory = webSocketTransportFactory({ listen: { host, port: 0 }, frameBytesMax });
    const context = { cluster: 'c', self: 'n1', peers: ['n2'] };
    const n1 = await factory(context);
    opened.push(n1);
    const listening = await factory.listen(context);
    expect(listening.address).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    await expect(factory.listen({ ...context, self: 'n9' })).rejects.toThrow(/no listening/);
    const n2 = await node('n2', 0, { peers: { n1: listening.address } });
    await until('n2-n1 open', () => n2.links().get('n1') === 'open');
    await listening.close();
    const atN1: string[] = [];
    n1.onFrame((from) => atN1.push(from));
    n2.send('n1', Uint8Array.of(1));
    await until('n2 to reach n1 over the link made before', () => atN1.length === 1);
    const late = new WebSocket(listening.address);
    const refused = await new Promise<boolean>((resolve) => {
      late.once('error', () => resolve(true));
      late.once('open', () => resolve(false));
    });
    late.terminate();
    expect(refused).toBe(true);
  });
});

describe('WebSocket hello and backoff', () => {
  it('round-trips a hello and refuses anything else', () => {
    expect(parseWsHello(encodeWsHello({ kind: 'ack', from: 'n1', to: 'ñ2' }))).toEqual({ kind: 'ack', from: 'n1', to: 'ñ2' });
    const good = encodeWsHello({ kind: 'hello', from: 'n1', to: 'n2' });
    const bad: Uint8Array[] = [new Uint8Array(0), good.slice(0, good.length - 1), Uint8Array.of(...good, 0), Uint8Array.of(0, ...good.subarray(1))];
    const wrongVersion = good.slice();
    wrongVersion[4] = 9;
    const invalidUtf8 = encodeWsHello({ kind: 'hello', from: 'x', to: 'n2' });
    invalidUtf8[7] = 0xff;
    for (const bytes of [...bad, wrongVersion, invalidUtf8]) expect(parseWsHello(bytes)).toBeNull();
    expect(() => encodeWsHello({ kind: 'hello', from: '', to: 'n2' })).toThrow(RangeError);
  });

  it('waits between half and all of min(maxMs, baseMs * 2^attempt)', () => {
    const prng = createPrng(1);
    const limits = { baseMs: 100, maxMs: 1000 };
    const table: [number, number][] = [
      [0, 100],
      [1, 200],
      [3, 800],
      [4, 1000],
      [60, 1000],
    ];
    for (const [attempt, stepMs] of table) {
      for (let i = 0; i < 50; i++) {
        const waitMs = reconnectDelayMs(attempt, prng, limits);
        expect(waitMs).toBeGreaterThanOrEqual(stepMs / 2);
        expect(waitMs).toBeLessThanOrEqual(stepMs);
      }
    }
  });
});
