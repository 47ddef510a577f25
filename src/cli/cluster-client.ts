/**
 * A client of a cluster of Node nodes, as the command line and the edge benchmark use it: it
 * dials the members over WebSocket (it listens on nothing), authenticates its links with the
 * cluster secret exactly as a member does (link-guard.ts: a stranger until its hellos check
 * out), and speaks the `client` family (src/io/codec-client.ts) to ONE member, which serves it
 * (src/runtime/client-server.ts: a follower forwards proposals to its leader).
 *
 * Which member, and why a probe first: `connect` sends a `status` request (answered at once by
 * a node, no consensus) to every member whose socket opens, and keeps the first that answers.
 * That splits the three ways a command line fails before anything is proposed:
 *   - no socket opened within the timeout: UNREACHABLE (no member listens there);
 *   - a socket opened, but no answer within `authWaitMs`: AUTH (the node drops what fails its
 *     MAC without a word, so silence on an open link means another or a missing secret; or the
 *     port is not a peerquorum node of this cluster);
 *   - an answer: the link authenticated, and what follows is the cluster's own answer.
 *
 * The client's id is `client-` and 16 random hex digits: a new peer for every run. A node's link
 * guard keeps at most 256 peers it authenticated in one life (link-guard.ts `linksMax`), so a
 * node restarted seldom that serves very many short-lived clients refuses new ones once full
 * (docs/deploy.md says so); a long-lived client (the benchmark) uses one id for all its work.
 *
 * Requests are batched: what is asked in one turn of the event loop leaves as one frame per
 * `clientItemsPerFrameMax` requests. At most `pendingMax` requests wait for replies; more are
 * refused at once.
 */
import type { NodeId } from '../core/raft/types.ts';
import { clientRequestIdMax, type ClientBody, type ClientOp, type ClientReply, type ClientRequest } from '../io/codec-client.ts';
import { generateIdentityKeyPair } from '../io/crypto/identity.ts';
import { LinkGuard } from '../io/crypto/link-guard.ts';
import { webSocketTransport, type WebSocketTransport } from '../io/transport/websocket-transport.ts';
import { FrameRouter } from '../runtime/frame-router.ts';
import { cutFrames } from '../runtime/client-server.ts';
import type { PeerAddress } from './args.ts';

export type ClientFailure = 'UNREACHABLE' | 'AUTH';

/** Connecting failed before the cluster could answer anything (the command line's exit codes 3 and 4). */
export class ClientConnectError extends Error {
  override readonly name = 'ClientConnectError';
  constructor(
    readonly code: ClientFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ClusterClientOptions {
  readonly cluster: string;
  readonly peers: readonly PeerAddress[];
  readonly secret: string | null;
  /** How long to wait for a socket to any member, and for each request's reply. */
  readonly timeoutMs: number;
  /** How long an open link may stay silent to a status probe before it counts as refused auth. */
  readonly authWaitMs?: number;
  /** Ask this member only (the command line's `status` asks each in turn). */
  readonly only?: NodeId;
  readonly pendingMax?: number;
}

interface Waiting {
  readonly resolve: (reply: ClientReply) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const authWaitMsDefault = 3000;
const pendingMaxDefault = 65_536;
const decoder = new TextDecoder();

export class ClusterClient {
  /** Connect, and pick the first member that answers a status probe. Rejects with `ClientConnectError`. */
  static async connect(options: ClusterClientOptions): Promise<ClusterClient> {
    const self = `client-${randomHex(8)}`;
    const peers = options.only === undefined ? options.peers : options.peers.filter((p) => p.id === options.only);
    const transport = await webSocketTransport({ self, peers: Object.fromEntries(peers.map((p) => [p.id, p.url])), backoff: { baseMs: 50, maxMs: 500 } });
    const guard = options.secret === null ? null : new LinkGuard({ secret: options.secret, cluster: options.cluster, self, epoch: Date.now() * 1024 + (Number.parseInt(randomHex(1), 16) % 1024) + 1, mac: 'native', identityKey: await clientIdentityKey() });
    const router = new FrameRouter({ transport, cluster: options.cluster, self, guard, now: () => performance.now() });
    const client = new ClusterClient(router, transport, options.pendingMax ?? pendingMaxDefault);
    try {
      client.member = await client.probe(peers, options.timeoutMs, options.authWaitMs ?? authWaitMsDefault);
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  /** The member this client talks to. */
  member: NodeId = '';
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private outbox: ClientRequest[] = [];
  private flushScheduled = false;
  private closed = false;

  private constructor(
    private readonly router: FrameRouter,
    private readonly transport: WebSocketTransport,
    private readonly pendingMax: number,
  ) {
    router.client.onBody((from, body) => this.receive(from, body));
  }

  /** Ask `member`; resolves with its reply, or a TIMEOUT reply of our own after `timeoutMs`. */
  request(op: ClientOp, data: Uint8Array, timeoutMs: number, member: NodeId = this.member): Promise<ClientReply> {
    const id = this.nextId;
    this.nextId = this.nextId >= clientRequestIdMax ? 1 : this.nextId + 1;
    if (this.closed) return Promise.resolve(local(id, 'STOPPED', 'the client is closed'));
    if (this.waiting.size >= this.pendingMax) return Promise.resolve(local(id, 'PROPOSAL_DROPPED', `more than ${this.pendingMax} requests in flight`));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(local(id, 'TIMEOUT', `no answer from ${member} within ${timeoutMs} ms (a proposal may still be applied)`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, timer });
      this.outbox.push({ id, op, data });
      this.memberOf.set(id, member);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private readonly memberOf = new Map<number, NodeId>();

  private flush(): void {
    this.flushScheduled = false;
    const byMember = new Map<NodeId, ClientRequest[]>();
    for (const r of this.outbox) {
      const to = this.memberOf.get(r.id) ?? this.member;
      this.memberOf.delete(r.id);
      const list = byMember.get(to) ?? [];
      list.push(r);
      byMember.set(to, list);
    }
    this.outbox = [];
    for (const [to, requests] of byMember) for (const frame of cutFrames(requests)) this.router.client.send(to, { t: 'req', items: frame });
  }

  private receive(_from: NodeId, body: ClientBody): void {
    if (body.t !== 'rep') return;
    for (const reply of body.items) {
      const w = this.waiting.get(reply.id);
      if (w === undefined) continue; // timed out already, or not ours
      this.waiting.delete(reply.id);
      clearTimeout(w.timer);
      w.resolve(reply);
    }
  }

  /** Status probes to every member whose socket opens; the first to answer wins. */
  private probe(peers: readonly PeerAddress[], timeoutMs: number, authWaitMs: number): Promise<NodeId> {
    return new Promise((resolve, reject) => {
      const opened = new Set<NodeId>();
      let settled = false;
      const finish = (outcome: NodeId | ClientConnectError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearInterval(poll);
        if (outcome instanceof ClientConnectError) reject(outcome);
        else resolve(outcome);
      };
      const ask = (peer: NodeId): void => {
        void this.request('status', new Uint8Array(0), authWaitMs, peer).then((reply) => {
          if (reply.code === '') finish(peer);
          else if (opened.size === peers.length || !this.anyConnecting(peers)) {
            // Every member we could reach was silent on an open link.
            finish(new ClientConnectError('AUTH', `${describePeer(peers, peer)} accepted the connection but never answered over an authenticated link: wrong or missing --secret-file, another --cluster, or not a peerquorum node`));
          }
        });
      };
      const look = (): void => {
        for (const [peer, state] of this.transport.links()) {
          if (state !== 'open' || opened.has(peer)) continue;
          opened.add(peer);
          ask(peer);
        }
      };
      // Link states are polled, not listened to: the router holds the transport's one listener.
      const poll = setInterval(look, 20);
      const deadline = setTimeout(() => {
        if (opened.size > 0) finish(new ClientConnectError('AUTH', `${[...opened].map((p) => describePeer(peers, p)).join(', ')}: connected but never answered over an authenticated link: wrong or missing --secret-file, or another --cluster`));
        else finish(new ClientConnectError('UNREACHABLE', `no member reachable within ${timeoutMs} ms (tried ${peers.map((p) => `${p.id}=${p.url}`).join(', ')})`));
      }, Math.max(timeoutMs, authWaitMs + 100));
      look();
    });
  }

  private anyConnecting(peers: readonly PeerAddress[]): boolean {
    const links = this.transport.links();
    return peers.some((p) => links.get(p.id) !== 'open');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.resolve(local(id, 'STOPPED', 'the client closed'));
    }
    this.waiting.clear();
    await this.router.flush();
    await this.router.close();
  }
}

/** A reply made here (timeouts, refusals), in the shape of a node's. */
function local(id: number, code: string, message: string): ClientReply {
  return { id, code, data: new TextEncoder().encode(message) };
}

/** A reply's error text (its data, when its code is not ''). */
export function replyText(reply: ClientReply): string {
  return decoder.decode(reply.data);
}

function describePeer(peers: readonly PeerAddress[], id: NodeId): string {
  const p = peers.find((q) => q.id === id);
  return p === undefined ? id : `${id} at ${p.url}`;
}

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * The identity key a client publishes in its hellos. A client signs nothing, but the link layer
 * carries a key in every hello; a fresh pair per run costs about a millisecond.
 */
async function clientIdentityKey(): Promise<Uint8Array> {
  const pair = await generateIdentityKeyPair();
  return new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
}
