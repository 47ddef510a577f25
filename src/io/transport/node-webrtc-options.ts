/**
 * The options of the Node WebRTC transport module (node-webrtc-module.ts), and their check, in a
 * file of their own: the app's thread checks them when `createNode` of `peerquorum/node` is
 * given `transport: 'webrtc'` (src/node/node-options.ts) without loading werift there, and the
 * worker checks them again when it loads the module (they crossed a thread).
 */
import type { IceServer } from './node-webrtc-slot.ts';
import type { PeerServerAddress } from './peerjs-signaling.ts';

export interface NodeWebRtcModuleOptions {
  readonly signaling: PeerServerAddress;
  readonly iceServers?: readonly IceServer[];
}

const hostCharsMax = 255;
const textCharsMax = 1024;
const iceServersMax = 16;
const urlsMax = 8;

/** The module's options, checked; throws a TypeError naming what is wrong. */
export function parseNodeWebRtcModuleOptions(value: unknown): NodeWebRtcModuleOptions {
  if (!isRecord(value) || !isRecord(value.signaling)) throw new TypeError('webrtc transport options need signaling: { host, port, path, secure }');
  const s = value.signaling;
  if (!isText(s.host, hostCharsMax)) throw new TypeError('signaling.host must be a host name');
  if (!Number.isSafeInteger(s.port) || (s.port as number) < 1 || (s.port as number) > 65_535) throw new TypeError('signaling.port must be a port number');
  if (!isText(s.path, textCharsMax) || !s.path.startsWith('/')) throw new TypeError('signaling.path must start with /');
  if (typeof s.secure !== 'boolean') throw new TypeError('signaling.secure must be a boolean');
  if (s.key !== undefined && !isText(s.key, textCharsMax)) throw new TypeError('signaling.key must be a string');
  const signaling: PeerServerAddress = { host: s.host, port: s.port as number, path: s.path, secure: s.secure, ...(s.key === undefined ? {} : { key: s.key as string }) };
  if (value.iceServers === undefined) return { signaling };
  if (!Array.isArray(value.iceServers) || value.iceServers.length > iceServersMax) throw new TypeError(`iceServers must be a list of at most ${iceServersMax}`);
  return { signaling, iceServers: value.iceServers.map(parseIceServer) };
}

function parseIceServer(value: unknown): IceServer {
  if (!isRecord(value)) throw new TypeError('an ICE server must be { urls, username?, credential? }');
  const urls = value.urls;
  const urlsOk = isText(urls, textCharsMax) || (Array.isArray(urls) && urls.length > 0 && urls.length <= urlsMax && urls.every((u) => isText(u, textCharsMax)));
  if (!urlsOk) throw new TypeError(`an ICE server's urls must be a URL or a list of at most ${urlsMax}`);
  for (const key of ['username', 'credential'] as const) {
    if (value[key] !== undefined && !isText(value[key], textCharsMax)) throw new TypeError(`an ICE server's ${key} must be a string`);
  }
  return {
    urls: typeof urls === 'string' ? urls : [...(urls as string[])],
    ...(value.username === undefined ? {} : { username: value.username as string }),
    ...(value.credential === undefined ? {} : { credential: value.credential as string }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown, charsMax: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= charsMax;
}
