/**
 * A PeerServer client for Node: the PeerJS signaling protocol spoken over a `ws` WebSocket, so
 * that a Node node meets browser tabs at the same PeerServer the browsers' PeerJS `Peer` uses
 * (src/client/webrtc-links.ts). PeerJS itself is not run in Node: its build for Node is a
 * CommonJS bundle whose named exports Node's ESM loader does not see, and it decides at import
 * time from `window`, `navigator` and global `RTCPeerConnection` whether WebRTC works, so using
 * it would mean planting browser globals in the user's process. The protocol is small:
 *
 * - The socket: `ws(s)://host:port<path>/peerjs?key=K&id=ID&token=T&version=V` (PeerJS adds
 *   `peerjs` to a path that ends with `/`). The server answers `OPEN`, or `ID-TAKEN` (another
 *   token holds the id), `INVALID-KEY`, `ERROR`.
 * - `HEARTBEAT` every 5 s, or the server drops us (its `alive_timeout`, 60 s by default).
 * - `OFFER`, `ANSWER`, `CANDIDATE` carry `{ type, payload, dst }` out and `{ type, payload, src }`
 *   in; the server holds a message for a peer that is not connected, and answers `EXPIRE` (src =
 *   that peer) if it never came; `LEAVE` (src) says a peer's socket closed.
 *
 * Everything the server relays comes from peers we do not trust yet (the link authentication
 * happens far above, on frames): a message over `messageBytesMax`, not JSON, or of the wrong
 * shape is dropped and counted, never thrown. This class keeps ONE socket and tells what happens
 * to it; reconnecting (with backoff) is the caller's, as it is the PeerJS `Peer`'s caller's.
 */
import { WebSocket, type RawData } from 'ws';

export interface PeerServerAddress {
  readonly host: string;
  readonly port: number;
  /** Where the PeerServer is mounted, e.g. `/` or `/peerjs` (the server's `path` option). */
  readonly path: string;
  readonly secure: boolean;
  /** The PeerServer's key (default `peerjs`). */
  readonly key?: string;
}

/** A session description or candidate as PeerJS sends them (RTCSessionDescriptionInit, RTCIceCandidateInit). */
export interface SdpInit {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}
export interface CandidateInit {
  readonly candidate: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
}

/** What the server relays or says, validated. */
export type SignalingMessage =
  | { readonly type: 'OPEN' }
  | { readonly type: 'ID-TAKEN' | 'INVALID-KEY' | 'ERROR'; readonly message: string }
  | { readonly type: 'LEAVE' | 'EXPIRE'; readonly src: string }
  | { readonly type: 'OFFER'; readonly src: string; readonly connectionId: string; readonly label: string; readonly sdp: SdpInit }
  | { readonly type: 'ANSWER'; readonly src: string; readonly connectionId: string; readonly sdp: SdpInit }
  | { readonly type: 'CANDIDATE'; readonly src: string; readonly connectionId: string; readonly candidate: CandidateInit };

export interface PeerJsSignalingOptions {
  readonly server: PeerServerAddress;
  readonly id: string;
  readonly token: string;
  readonly onMessage: (message: SignalingMessage) => void;
  /** The socket closed (or never opened); nothing is sent or received after this. */
  readonly onClose: () => void;
  /** Largest server message accepted, in bytes (default 64 KiB: an SDP is a few KiB). */
  readonly messageBytesMax?: number;
  readonly heartbeatIntervalMs?: number;
}

/** The PeerJS version we say we speak (the one the browsers bundle). */
const peerJsVersion = '1.5.5';
/** PeerJS ids and connection ids are short; a longer one is garbage. */
const idCharsMax = 256;
const labelCharsMax = 256;
const sdpCharsMax = 32 * 1024;
const candidateCharsMax = 1024;

export class PeerJsSignaling {
  /** Server messages dropped: too large, not JSON, or of a shape we do not know. */
  messagesDropped = 0;
  private readonly socket: WebSocket;
  private readonly options: PeerJsSignalingOptions;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(options: PeerJsSignalingOptions) {
    this.options = options;
    const s = options.server;
    const path = s.path.endsWith('/') ? s.path : `${s.path}/`;
    const query = new URLSearchParams({ key: s.key ?? 'peerjs', id: options.id, token: options.token, version: peerJsVersion });
    const url = `${s.secure ? 'wss' : 'ws'}://${s.host}:${s.port}${path.startsWith('/') ? path : `/${path}`}peerjs?${query.toString()}`;
    // maxPayload: ws refuses a longer message from its header, before buffering it.
    this.socket = new WebSocket(url, { maxPayload: options.messageBytesMax ?? 64 * 1024 });
    this.socket.on('message', (data, isBinary) => this.handleRaw(data, isBinary));
    this.socket.on('close', () => this.finish());
    // An error (refused, oversize, protocol) is followed by `close`.
    this.socket.on('error', () => undefined);
    this.socket.on('open', () => {
      const intervalMs = options.heartbeatIntervalMs ?? 5000;
      this.heartbeat = setInterval(() => this.sendRaw({ type: 'HEARTBEAT' }), intervalMs);
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  offer(dst: string, connectionId: string, label: string, sdp: SdpInit): void {
    // The fields PeerJS's own dialer sends (its Negotiator): the acceptor's PeerJS builds its
    // DataConnection from them; `raw` serialization leaves the channel's bytes alone.
    this.sendRaw({ type: 'OFFER', dst, payload: { sdp, type: 'data', connectionId, label, reliable: true, serialization: 'raw' } });
  }

  answer(dst: string, connectionId: string, sdp: SdpInit): void {
    this.sendRaw({ type: 'ANSWER', dst, payload: { sdp, type: 'data', connectionId } });
  }

  candidate(dst: string, connectionId: string, candidate: CandidateInit): void {
    this.sendRaw({ type: 'CANDIDATE', dst, payload: { candidate, type: 'data', connectionId } });
  }

  /** Tell `dst` (through the server, as a PeerJS client may) that we are gone: it closes its connections to us at once. */
  leave(dst: string): void {
    this.sendRaw({ type: 'LEAVE', dst });
  }

  close(): void {
    if (this.closed) return;
    this.socket.close();
    this.finish();
  }

  private sendRaw(message: Record<string, unknown>): void {
    if (!this.isOpen) return;
    this.socket.send(JSON.stringify(message));
  }

  private finish(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.closed) return;
    this.closed = true;
    this.options.onClose();
  }

  private handleRaw(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const message = isBinary ? null : parseSignalingMessage(rawText(data));
    if (message === null) {
      this.messagesDropped++;
      return;
    }
    this.options.onMessage(message);
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** A server message, or null when it is not one we know with every field in bounds. */
export function parseSignalingMessage(text: string): SignalingMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.type !== 'string') return null;
  const payload = value.payload;
  switch (value.type) {
    case 'OPEN':
      return { type: 'OPEN' };
    case 'ID-TAKEN':
    case 'INVALID-KEY':
    case 'ERROR': {
      const msg = isRecord(payload) && isText(payload.msg, labelCharsMax) ? payload.msg : value.type;
      return { type: value.type, message: msg };
    }
    case 'LEAVE':
    case 'EXPIRE':
      return isText(value.src, idCharsMax) ? { type: value.type, src: value.src } : null;
    case 'OFFER':
    case 'ANSWER':
    case 'CANDIDATE':
      return parseRelayed(value.type, value.src, payload);
    default:
      // HEARTBEAT answers and whatever a newer server adds: nothing for us.
      return null;
  }
}

function parseRelayed(type: 'OFFER' | 'ANSWER' | 'CANDIDATE', src: unknown, payload: unknown): SignalingMessage | null {
  if (!isText(src, idCharsMax) || !isRecord(payload) || payload.type !== 'data' || !isText(payload.connectionId, idCharsMax)) return null;
  const connectionId = payload.connectionId;
  if (type === 'CANDIDATE') {
    const c = payload.candidate;
    if (!isRecord(c) || typeof c.candidate !== 'string' || c.candidate.length > candidateCharsMax) return null;
    const sdpMid = c.sdpMid === null || isText(c.sdpMid, idCharsMax) ? c.sdpMid : undefined;
    const index = c.sdpMLineIndex;
    const sdpMLineIndex = index === null || (Number.isSafeInteger(index) && (index as number) >= 0 && (index as number) < 1024) ? (index as number | null) : undefined;
    return { type, src, connectionId, candidate: { candidate: c.candidate, ...(sdpMid === undefined ? {} : { sdpMid }), ...(sdpMLineIndex === undefined ? {} : { sdpMLineIndex }) } };
  }
  const sdp = payload.sdp;
  const want = type === 'OFFER' ? 'offer' : 'answer';
  if (!isRecord(sdp) || sdp.type !== want || !isText(sdp.sdp, sdpCharsMax)) return null;
  if (type === 'ANSWER') return { type, src, connectionId, sdp: { type: 'answer', sdp: sdp.sdp } };
  const label = isText(payload.label, labelCharsMax) ? payload.label : '';
  return { type, src, connectionId, label, sdp: { type: 'offer', sdp: sdp.sdp } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown, charsMax: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= charsMax;
}
