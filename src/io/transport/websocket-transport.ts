/**
 * A transport over WebSockets (the `ws` package) for nodes in Node.js: an edge node listens, and
 * dials the peers it has an address for; each pair of nodes keeps ONE connection.
 *
 * ```ts
 * const t = await webSocketTransport({ self: 'n1', listen: { host: '127.0.0.1', port: 7001 },
 *   peers: { n2: 'ws://127.0.0.1:7002', n3: 'ws://127.0.0.1:7003' } });
 * ```
 *
 * It only moves frames. Who a peer really is, is settled above it by the platform's link
 * authentication (src/io/crypto/link-guard.ts): the id a connection claims in its hello
 * (websocket-wire.ts) only routes frames, and a liar's frames fail their MAC up there.
 *
 * - One connection per pair. Both ends may dial (a node that does not listen, like a command
 *   line client, can only dial; a node may not know the other's address), so when two
 *   connections to one peer are up, both ends keep the one dialled by the LOWER id and close the
 *   other (code 4000): the same rule on both sides, so they agree without a further message.
 *   A redial from the same dialler (the peer restarted) replaces the older connection.
 * - Reconnect: a peer with an address whose connection is lost (or never came up) is dialled
 *   again after an exponential backoff with jitter (websocket-backoff.ts, an injected `Prng`),
 *   reset when a connection opens. The link reads `closed` between a loss and the next open.
 * - Bounded queues: while a peer with an address is not connected, frames to it wait in a queue
 *   of at most `sendQueueFramesMax` frames and `sendQueueBytesMax` bytes; a new frame pushes the
 *   OLDEST out (dropped and counted: a Raft message is only worth its newest copy). While
 *   connected, a frame that finds more than `socketBufferedBytesMax` bytes unsent in the socket
 *   is dropped and counted (a stalled peer must not grow our memory).
 * - Untrusted input: `maxPayload` = `frameBytesMax` makes `ws` refuse a message from its header
 *   length (and a fragmented one as soon as the total passes it) BEFORE buffering it; such a
 *   connection is closed (1009) and counted (`connectionsClosedOversize`). A text message, a bad
 *   hello, a WebSocket protocol violation, or no hello within `helloTimeoutMs` closes the
 *   connection, counted (`connectionsClosedGarbage`). At most `pendingConnectionsMax` accepted
 *   connections may be waiting for their hello, and at most `linksMax` peers are held.
 */
import { createServer, type Server } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { NodeId } from '../../core/raft/types.ts';
import { createPrng, type Prng } from '../../core/prng.ts';
import { LinkTable, linksMaxDefault, type LinkStats } from './link-table.ts';
import { frameBytesMaxDefault, type LinkState, type Transport } from './transport.ts';
import { backoffLimitsDefault, reconnectDelayMs, validateBackoffLimits, type BackoffLimits } from './websocket-backoff.ts';
import { encodeWsHello, isWsId, parseWsHello, wsHelloBytesMax } from './websocket-wire.ts';

export interface WebSocketTransportOptions {
  readonly self: NodeId;
  /** Where to accept connections (port 0: any free port, read back from `address`). Absent: dial only. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** The peers to dial: id to `ws://host:port`. More can be added with `addPeer`. */
  readonly peers?: Readonly<Record<NodeId, string>>;
  readonly frameBytesMax?: number;
  /** Peers held at once (default 256). */
  readonly linksMax?: number;
  /** Frames waiting per disconnected peer (default 1024). */
  readonly sendQueueFramesMax?: number;
  /** Bytes waiting per disconnected peer (default 8 MiB). */
  readonly sendQueueBytesMax?: number;
  /** Unsent bytes in a socket above which a frame is dropped (default 16 MiB). */
  readonly socketBufferedBytesMax?: number;
  /** How long a new connection may take to complete its hello (default 5000 ms). */
  readonly helloTimeoutMs?: number;
  /** Accepted connections waiting for their hello at once (default 64). */
  readonly pendingConnectionsMax?: number;
  readonly backoff?: BackoffLimits;
  /** Draws the reconnect jitter (default: seeded from the clock). */
  readonly prng?: Prng;
}

/** The transport's own counters, beside the shared ones. */
export interface WebSocketStats {
  /** Connections closed for a text message, a bad hello, a protocol violation or a hello too late. */
  connectionsClosedGarbage: number;
  /** Connections closed for a message longer than `frameBytesMax`. */
  connectionsClosedOversize: number;
  /** Accepted connections closed at once: too many were waiting for their hello. */
  connectionsRefused: number;
  /** Frames pushed out of a full queue of a disconnected peer (also in `framesDropped`). */
  framesDroppedQueueFull: number;
  /** Connections dialled, first dials and redials. */
  dials: number;
}

/** A connection, before and after its hello. */
interface Conn {
  readonly ws: WebSocket;
  readonly outbound: boolean;
  /** Outbound: the peer dialled. Inbound: null until its hello names it. */
  peer: NodeId | null;
  /**
   * The hello is done: frames that arrive are the peer's. Stays true on a connection that lost
   * to a duplicate while it closes: what the peer sent on it before it learned so still counts
   * (its end may have sent a frame on it the moment it opened).
   */
  helloDone: boolean;
  /** Counted already as garbage or oversize (a socket reports one failure once). */
  counted: boolean;
  /** An accepted connection still counted in `pending` (waiting for its hello). */
  awaitingHello: boolean;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
}

/** What is kept per peer: its address, its one open connection, a dial under way, the queue. */
interface Peer {
  readonly id: NodeId;
  url: string | undefined;
  conn: Conn | null;
  dialing: Conn | null;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  attempt: number;
  queue: Uint8Array[];
  queueBytes: number;
}

const closeDuplicate = 4000;
const closeRefused = 4001;
const closeGarbage = 1003;
const wsOversizeCode = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

export class WebSocketTransport implements Transport {
  readonly self: NodeId;
  readonly stats: Readonly<LinkStats & WebSocketStats>;
  private readonly table: LinkTable<WebSocketStats>;
  private readonly counters: LinkStats & WebSocketStats;
  private readonly frameBytesMax: number;
  private readonly sendQueueFramesMax: number;
  private readonly sendQueueBytesMax: number;
  private readonly socketBufferedBytesMax: number;
  private readonly helloTimeoutMs: number;
  private readonly pendingConnectionsMax: number;
  private readonly backoff: BackoffLimits;
  private readonly prng: Prng;
  private readonly peers = new Map<NodeId, Peer>();
  /** Every socket alive, whatever its state: what `close` ends. */
  private readonly conns = new Set<Conn>();
  private pending = 0;
  /** Our own HTTP server under `ws`'s, so that closing can cut connections that never upgraded. */
  private server: { readonly http: Server; readonly wss: WebSocketServer } | null = null;
  private readonly listening: Promise<void>;
  private listenAddress: string | undefined;

  constructor(options: WebSocketTransportOptions) {
    if (!isWsId(options.self)) throw new RangeError(`self must be 1..255 UTF-8 bytes, got ${JSON.stringify(options.self)}`);
    this.self = options.self;
    this.frameBytesMax = options.frameBytesMax ?? frameBytesMaxDefault;
    if (!Number.isSafeInteger(this.frameBytesMax) || this.frameBytesMax < wsHelloBytesMax) throw new RangeError(`frameBytesMax must be an integer of at least ${wsHelloBytesMax}`);
    this.sendQueueFramesMax = positive('sendQueueFramesMax', options.sendQueueFramesMax ?? 1024);
    this.sendQueueBytesMax = positive('sendQueueBytesMax', options.sendQueueBytesMax ?? 8 * 1024 * 1024);
    this.socketBufferedBytesMax = positive('socketBufferedBytesMax', options.socketBufferedBytesMax ?? 16 * 1024 * 1024);
    this.helloTimeoutMs = positive('helloTimeoutMs', options.helloTimeoutMs ?? 5000);
    this.pendingConnectionsMax = positive('pendingConnectionsMax', options.pendingConnectionsMax ?? 64);
    this.backoff = options.backoff ?? backoffLimitsDefault;
    validateBackoffLimits(this.backoff);
    this.prng = options.prng ?? createPrng(Date.now());
    this.table = new LinkTable<WebSocketStats>(
      { self: this.self, linksMax: options.linksMax ?? linksMaxDefault },
      { connectionsClosedGarbage: 0, connectionsClosedOversize: 0, connectionsRefused: 0, framesDroppedQueueFull: 0, dials: 0 },
    );
    this.counters = this.table.stats;
    this.stats = this.counters;
    this.listening = options.listen === undefined ? Promise.resolve() : this.startServer(options.listen.host, options.listen.port);
    for (const [id, url] of Object.entries(options.peers ?? {})) this.addPeer(id, url);
  }

  /** Resolves once listening (at once without `listen`); rejects when the port cannot be had. */
  ready(): Promise<void> {
    return this.listening;
  }

  /** `ws://host:port` where this node listens, once `ready` resolved; undefined without `listen`. */
  get address(): string | undefined {
    return this.listenAddress;
  }

  /**
   * Stop accepting connections; resolves once the port is released. Links made live on until
   * `close`; a connection that has not upgraded yet is cut (a silent one could hold it forever).
   */
  async stopListening(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    await this.listening.catch(() => undefined);
    // The listening socket closes at once; the callback would wait for every connection.
    server.wss.close();
    server.http.close();
    server.http.closeAllConnections();
  }

  /**
   * Dial `peer` at `url` from now on (and again after every loss). Answers false when the peer
   * cannot be held (`linksMax`: counted in `linksRefused`), is this node, or after `close`.
   */
  addPeer(peer: NodeId, url: string): boolean {
    if (this.table.closed || !isWsId(peer) || !this.admit(peer)) return false;
    const p = this.peerOf(peer);
    p.url = url;
    if (p.conn === null) {
      this.table.setState(peer, 'connecting');
      this.dial(p);
    }
    return true;
  }

  send(to: NodeId, frame: Uint8Array): void {
    const p = this.peers.get(to);
    if (this.table.closed || frame.byteLength > this.frameBytesMax || p === undefined) {
      this.table.countDropped();
      return;
    }
    if (p.conn !== null) {
      this.write(p.conn, frame);
      return;
    }
    if (p.url === undefined) {
      this.table.countDropped();
      return;
    }
    this.enqueue(p, frame);
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.table.onFrame(handler);
  }

  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void {
    this.table.onLinkState(handler);
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    return this.table.links();
  }

  async close(): Promise<void> {
    if (this.table.closed) return;
    this.table.close();
    for (const p of this.peers.values()) {
      clearTimeout(p.retryTimer);
      this.table.countDropped(p.queue.length);
      p.queue = [];
      p.queueBytes = 0;
    }
    const closed: Promise<void>[] = [];
    for (const conn of this.conns) {
      clearTimeout(conn.helloTimer);
      if (conn.ws.readyState !== WebSocket.CLOSED) closed.push(new Promise((resolve) => conn.ws.once('close', () => resolve())));
      conn.ws.terminate();
    }
    const server = this.server;
    this.server = null;
    if (server !== null) {
      server.wss.close();
      closed.push(new Promise((resolve) => server.http.close(() => resolve())));
      server.http.closeAllConnections();
    }
    await this.listening.catch(() => undefined);
    await Promise.all(closed);
  }

  private startServer(host: string, port: number): Promise<void> {
    const server = createServer();
    // Sockets still in HTTP (no upgrade yet) are bounded in time by Node's own timeouts and cut on close.
    server.headersTimeout = this.helloTimeoutMs;
    server.requestTimeout = this.helloTimeoutMs;
    const wss = new WebSocketServer({ server, maxPayload: this.frameBytesMax, perMessageDeflate: false, clientTracking: false });
    this.server = { http: server, wss };
    wss.on('connection', (ws) => this.accept(ws));
    wss.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      server.once('listening', () => {
        const address = server.address();
        const at = typeof address === 'object' && address !== null ? address.port : port;
        this.listenAddress = `ws://${host.includes(':') ? `[${host}]` : host}:${at}`;
        // Errors after listening (a failed upgrade) concern one client, which `ws` answers itself.
        server.on('error', () => undefined);
        resolve();
      });
      server.once('error', (error) => {
        void this.close();
        reject(error);
      });
      server.listen(port, host);
    });
  }

  private accept(ws: WebSocket): void {
    if (this.table.closed) {
      ws.terminate();
      return;
    }
    if (this.pending >= this.pendingConnectionsMax) {
      this.counters.connectionsRefused++;
      ws.terminate();
      return;
    }
    this.pending++;
    this.attach({ ws, outbound: false, peer: null, helloDone: false, counted: false, awaitingHello: true, helloTimer: undefined });
  }

  private dial(p: Peer): void {
    if (this.table.closed || p.url === undefined || p.conn !== null || p.dialing !== null) return;
    this.counters.dials++;
    let ws: WebSocket;
    try {
      ws = new WebSocket(p.url, { maxPayload: this.frameBytesMax, perMessageDeflate: false, handshakeTimeout: this.helloTimeoutMs });
    } catch {
      // A malformed address: nothing to dial now; try again later like any failure.
      this.scheduleDial(p);
      return;
    }
    const conn: Conn = { ws, outbound: true, peer: p.id, helloDone: false, counted: false, awaitingHello: false, helloTimer: undefined };
    p.dialing = conn;
    this.attach(conn);
    ws.on('open', () => ws.send(encodeWsHello({ kind: 'hello', from: this.self, to: p.id })));
  }

  private scheduleDial(p: Peer): void {
    if (this.table.closed || p.url === undefined || p.conn !== null || p.dialing !== null || p.retryTimer !== undefined) return;
    const delayMs = reconnectDelayMs(p.attempt, this.prng, this.backoff);
    p.attempt++;
    p.retryTimer = setTimeout(() => {
      p.retryTimer = undefined;
      this.dial(p);
    }, delayMs);
  }

  private attach(conn: Conn): void {
    this.conns.add(conn);
    conn.ws.binaryType = 'nodebuffer';
    // An accepted connection silent for too long is counted like garbage; a dial that does not
    // complete in time is just a failed dial (the peer may be slow or down), retried later.
    conn.helloTimer = setTimeout(() => (conn.outbound ? conn.ws.terminate() : this.reject(conn, 'garbage')), this.helloTimeoutMs);
    conn.ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    conn.ws.on('error', (error: Error & { code?: string }) => {
      // `ws` closes the socket itself after a protocol error; what is ours is to count it.
      if (error.code === wsOversizeCode) this.count(conn, 'oversize');
      else if (error.code?.startsWith('WS_ERR_') === true) this.count(conn, 'garbage');
    });
    conn.ws.on('close', () => this.onClosed(conn));
  }

  private onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.reject(conn, 'garbage');
      return;
    }
    if (conn.counted) return;
    const bytes = toBytes(data);
    if (conn.helloDone) {
      if (conn.peer !== null) this.table.deliver(conn.peer, bytes);
      return;
    }
    const hello = parseWsHello(bytes);
    if (hello === null || hello.to !== this.self || hello.from === this.self || hello.kind !== (conn.outbound ? 'ack' : 'hello')) {
      this.reject(conn, 'garbage');
      return;
    }
    if (conn.outbound) {
      if (hello.from !== conn.peer) this.reject(conn, 'garbage');
      else this.opened(conn, hello.from);
      return;
    }
    if (!this.admit(hello.from)) {
      conn.ws.close(closeRefused, 'too many links');
      return;
    }
    conn.ws.send(encodeWsHello({ kind: 'ack', from: this.self, to: hello.from }));
    this.opened(conn, hello.from);
  }

  /** The hello is done: `conn` carries `peer`'s frames, unless a connection that wins is up. */
  private opened(conn: Conn, peer: NodeId): void {
    clearTimeout(conn.helloTimer);
    this.endPending(conn);
    conn.peer = peer;
    conn.helloDone = true;
    const p = this.peerOf(peer);
    if (p.dialing === conn) p.dialing = null;
    const existing = p.conn;
    if (existing !== null && existing !== conn && this.wins(existing, conn, peer)) {
      conn.ws.close(closeDuplicate, 'duplicate');
      return;
    }
    p.conn = conn;
    p.attempt = 0;
    clearTimeout(p.retryTimer);
    p.retryTimer = undefined;
    if (existing !== null && existing !== conn) {
      existing.ws.close(closeDuplicate, 'duplicate');
    }
    this.table.setState(peer, 'open');
    const queued = p.queue;
    p.queue = [];
    p.queueBytes = 0;
    for (const frame of queued) this.write(conn, frame);
  }

  /** Whether `existing` stays rather than `challenger`: the lower id's dial wins; same dialler, the newer one. */
  private wins(existing: Conn, challenger: Conn, peer: NodeId): boolean {
    const dialler = (c: Conn): NodeId => (c.outbound ? this.self : peer);
    const lower = this.self < peer ? this.self : peer;
    return dialler(existing) === lower && dialler(challenger) !== lower;
  }

  private onClosed(conn: Conn): void {
    clearTimeout(conn.helloTimer);
    this.conns.delete(conn);
    this.endPending(conn);
    const p = conn.peer === null ? undefined : this.peers.get(conn.peer);
    if (p === undefined || this.table.closed) return;
    if (p.dialing === conn) p.dialing = null;
    if (p.conn === conn) {
      p.conn = null;
      this.table.setState(p.id, 'closed');
    }
    if (p.url !== undefined) this.scheduleDial(p);
    else if (p.conn === null) this.peers.delete(p.id);
  }

  private write(conn: Conn, frame: Uint8Array): void {
    if (conn.ws.readyState !== WebSocket.OPEN || conn.ws.bufferedAmount > this.socketBufferedBytesMax) {
      this.table.countDropped();
      return;
    }
    conn.ws.send(frame, { binary: true });
    this.table.countSent();
  }

  private enqueue(p: Peer, frame: Uint8Array): void {
    // Copied: the caller may reuse its buffer before the link comes up.
    p.queue.push(frame.slice());
    p.queueBytes += frame.byteLength;
    while (p.queue.length > this.sendQueueFramesMax || p.queueBytes > this.sendQueueBytesMax) {
      const oldest = p.queue.shift();
      if (oldest === undefined) break;
      p.queueBytes -= oldest.byteLength;
      this.counters.framesDroppedQueueFull++;
      this.table.countDropped();
    }
  }

  private endPending(conn: Conn): void {
    if (!conn.awaitingHello) return;
    conn.awaitingHello = false;
    this.pending--;
  }

  /** Close a connection for bad input, counted once. */
  private reject(conn: Conn, why: 'garbage' | 'oversize'): void {
    this.count(conn, why);
    conn.ws.close(closeGarbage, why);
    // A peer that does not answer the closing handshake is cut off without waiting for it.
    setTimeout(() => conn.ws.terminate(), 1000).unref();
  }

  private count(conn: Conn, why: 'garbage' | 'oversize'): void {
    if (conn.counted) return;
    conn.counted = true;
    if (why === 'oversize') this.counters.connectionsClosedOversize++;
    else this.counters.connectionsClosedGarbage++;
  }

  /** Whether `peer` may be held: it is, or there is room (else refused and counted). */
  private admit(peer: NodeId): boolean {
    if (this.peers.has(peer)) return true;
    if (this.peers.size >= this.table.linksMax) {
      this.counters.linksRefused++;
      return false;
    }
    return this.table.admit(peer);
  }

  private peerOf(id: NodeId): Peer {
    let p = this.peers.get(id);
    if (p === undefined) {
      p = { id, url: undefined, conn: null, dialing: null, retryTimer: undefined, attempt: 0, queue: [], queueBytes: 0 };
      this.peers.set(id, p);
    }
    return p;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Makes a listening (when `listen` is given) and dialling WebSocket transport, ready. */
export async function webSocketTransport(options: WebSocketTransportOptions): Promise<WebSocketTransport> {
  const transport = new WebSocketTransport(options);
  await transport.ready();
  return transport;
}
