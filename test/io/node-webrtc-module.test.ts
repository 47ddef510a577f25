/**
 * The Node WebRTC transport named as a transport module (src/io/transport/node-webrtc-module.ts),
 * the way a node started from a spec (a worker thread, the CLI) gets it: the host's own
 * `createTransport` (src/runtime/node-parts.ts) loads the module by URL with the spec's options.
 * It proves that two nodes made this way link through a real PeerServer on 127.0.0.1 and carry
 * a frame, and that options of the wrong shape (no signaling, a port out of range, a relative
 * path, too many ICE servers, an ICE server without urls) are refused as CONFIG before any
 * socket opens.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseNodeWebRtcModuleOptions } from '../../src/io/transport/node-webrtc-module.ts';
import type { Transport } from '../../src/io/transport/transport.ts';
import { createTransport } from '../../src/runtime/node-parts.ts';
import { startPeerServer, type LoopbackPeerServer } from './loopback-peer-server.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

const moduleUrl = new URL('../../src/io/transport/node-webrtc-module.ts', import.meta.url).href;
let server: LoopbackPeerServer | undefined;
let port = 0;

async function until(what: string, predicate: () => boolean): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  server = await startPeerServer();
  port = server.port;
});

afterAll(() => server?.close());

describe('the Node WebRTC transport as a transport module', () => {
  it('makes linked transports from a spec and carries a frame', async () => {
    const options = { signaling: { host: '127.0.0.1', port, path: '/peerjs', secure: false } };
    const spec = { kind: 'module', url: moduleUrl, options } as const;
    const made: Transport[] = [];
    try {
      made.push(await createTransport(spec, 'mod', 'a', ['b']), await createTransport(spec, 'mod', 'b', ['a']));
      const [a, b] = made as [Transport, Transport];
      expect([a.self, b.self]).toEqual(['a', 'b']);
      const got: string[] = [];
      b.onFrame((from, frame) => got.push(`${from}:${[...frame].join(',')}`));
      await until('the link a->b to open', () => a.links().get('b') === 'open');
      a.send('b', Uint8Array.of(9, 8, 7));
      await until('the frame', () => got.length === 1);
      expect(got).toEqual(['a:9,8,7']);
    } finally {
      await Promise.all(made.map((t) => t.close()));
    }
  });

  it('refuses options of the wrong shape as CONFIG', async () => {
    const signaling = { host: '127.0.0.1', port, path: '/peerjs', secure: false };
    const bad: unknown[] = [
      undefined,
      {},
      { signaling: { ...signaling, port: 70_000 } },
      { signaling: { ...signaling, path: 'peerjs' } },
      { signaling: { ...signaling, secure: 'no' } },
      { signaling, iceServers: Array.from({ length: 17 }, () => ({ urls: 'stun:127.0.0.1:3478' })) },
      { signaling, iceServers: [{ username: 'u' }] },
    ];
    for (const options of bad) {
      expect(() => parseNodeWebRtcModuleOptions(options)).toThrow(TypeError);
      await expect(createTransport({ kind: 'module', url: moduleUrl, options }, 'mod', 'a', ['b'])).rejects.toMatchObject({ code: 'CONFIG' });
    }
    expect(parseNodeWebRtcModuleOptions({ signaling, iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }] })).toEqual({
      signaling,
      iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }],
    });
  });
});
