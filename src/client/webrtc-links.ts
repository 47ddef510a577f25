/**
 * The main-thread half of the WebRTC transport: PeerJS signaling and ICE, one peer connection
 * per pair of nodes, and one NEGOTIATED data channel on each, handed out at creation so that the
 * caller can transfer it to the node's worker (DESIGN.md section 3: `RTCPeerConnection` does not
 * exist in workers, but a fresh negotiated channel can be transferred to one, which then owns it).
 * The frames themselves never touch PeerJS's own channel, nor this class: the channel goes to
 * `DataChannelTransport` (src/io/transport/data-channel-transport.ts), in the worker or here.
 *
 * How links are made:
 * 1. A `Peer` registers at the PeerServer under a stable id derived from (cluster, self)
 *    (webrtc-peer-id.ts), so a node keeps its id across reconnects and reloads.
 * 2. Deterministic dialing: of each pair, the node with the lower PeerJS id dials and the other
 *    accepts, so a pair never ends up with two connections. An incoming connection from a node we
 *    should dial, or from a node not in `peers`, is refused.
 * 3. When the PeerJS connection opens, BOTH sides create a negotiated channel with the same
 *    `id` (`negotiatedChannelId`) on `conn.peerConnection` and pass it to `onChannel` at once,
 *    in the same task, before anything is sent on it.
 * 4. Failures are retried with capped, jittered exponential backoff (webrtc-backoff.ts):
 *    - the PeerServer connection drops (`disconnected`): `peer.reconnect()` with the same id
 *      (existing peer connections keep working meanwhile); a destroyed Peer is recreated;
 *    - a peer connection closes, fails (its `connectionState` turns `failed`), or does not open
 *      within `dialTimeoutMs` (the other node is not registered yet: the server reports
 *      `peer-unavailable`): the dialer redials; the acceptor knocks (5.). A successful open
 *      resets that peer's backoff.
 * 5. Knocking: an acceptor with no connection to its dialer (it just started, or lost its side)
 *    sends the dialer a "knock", a PeerJS connection with the label `peerquorum-knock`. The
 *    dialer refuses it (2.) but takes it as proof that the acceptor holds no link to it: a
 *    connection it still thinks open is stale and is replaced, and a pending redial happens at
 *    once. Without this, a node whose acceptor side restarted never got that link back: a page
 *    that is crashed or closed sends its peers nothing (measured here, Chromium, 3 contexts: the
 *    survivor's peer connection went `disconnected` ~5 s after the other page died and its
 *    `connectionState` `failed` ~10 s later, while its `iceConnectionState` stayed
 *    `disconnected`, so PeerJS 1.5.5, which closes a DataConnection only on ICE `failed` or
 *    `closed`, never emitted `close`; its channels stayed `open` for as long as we watched, over
 *    45 s), so the dialer kept its dead connection and the restarted acceptor waited forever to be
 *    dialed. The `connectionState` watch (4.) is the backstop for a peer that never comes back.
 * 6. `close()` destroys the Peer and with it every peer connection and channel.
 *
 * No ICE servers by default: on loopback and a LAN host candidates suffice, and nothing is sent
 * to any address the caller did not configure. Pass STUN/TURN servers in `iceServers` for real
 * networks.
 */
import { Peer, type DataConnection, type PeerError } from 'peerjs';
import type { NodeId } from '../core/raft/types.ts';
import type { LinkState } from '../io/transport/transport.ts';
import { backoffDefault, backoffDelayMs, type BackoffOptions } from './webrtc-backoff.ts';
import { emptyWebRtcLinksStats, type SignalingState, type WebRtcLinksOptions, type WebRtcLinksStats } from './webrtc-links-options.ts';
import { peerJsId } from './webrtc-peer-id.ts';
import { clearSlotTimers, newPeerSlot, type PeerSlot } from './webrtc-peer-slot.ts';

// The caller's side of the contract (settings, callbacks, counters) lives in its own module.
export type { SignalingState, WebRtcLinksError, WebRtcLinksOptions, WebRtcLinksStats, WebRtcSignaling } from './webrtc-links-options.ts';

/** The SCTP stream id of the negotiated channel. PeerJS's own channel takes stream 0 or 1. */
export const negotiatedChannelId = 512;
export const negotiatedChannelLabel = 'peerquorum';
/** The label of a knock: an acceptor asking its dialer to dial it (see the module comment, 5.). */
export const knockLabel = 'peerquorum-knock';

/** A knock within this long of our connection opening is taken to have crossed our dial. */
const knockGraceMs = 2_000;

/** PeerJS errors after which retrying with the same settings cannot succeed. */
const fatalErrorTypes = new Set(['browser-incompatible', 'invalid-id', 'invalid-key', 'ssl-unavailable']);

export class WebRtcLinks {
  readonly peerId: string;
  readonly stats: WebRtcLinksStats = emptyWebRtcLinksStats();
  private readonly options: WebRtcLinksOptions;
  private readonly backoff: BackoffOptions;
  private readonly dialTimeoutMs: number;
  private readonly random: () => number;
  private readonly token = randomToken();
  private readonly slots = new Map<NodeId, PeerSlot>();
  /** PeerJS id -> slot, for incoming connections and `peer-unavailable` errors. */
  private readonly slotsByRemoteId = new Map<string, PeerSlot>();
  private peer: Peer;
  private signaling: SignalingState = 'connecting';
  private signalingAttempt = 0;
  private signalingTimer: ReturnType<typeof setTimeout> | undefined;
  /** A fatal error (see fatalErrorTypes) stopped all retrying. */
  private fatal = false;
  private closed = false;

  constructor(options: WebRtcLinksOptions) {
    this.options = options;
    this.peerId = peerJsId(options.cluster, options.self);
    this.backoff = options.backoff ?? backoffDefault;
    this.dialTimeoutMs = options.dialTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    if (!(this.backoff.initialMs > 0 && this.backoff.maxMs >= this.backoff.initialMs)) {
      throw new RangeError('backoff needs 0 < initialMs <= maxMs');
    }
    if (!(this.dialTimeoutMs > 0)) throw new RangeError('dialTimeoutMs must be positive');
    for (const node of options.peers) this.addSlot(node);
    this.peer = this.createPeer();
  }

  /** The current state of the PeerServer connection. */
  get signalingState(): SignalingState {
    return this.signaling;
  }

  /** The PeerJS connection state to each peer. */
  links(): ReadonlyMap<NodeId, LinkState> {
    const out = new Map<NodeId, LinkState>();
    for (const slot of this.slots.values()) out.set(slot.node, slot.state);
    return out;
  }

  /** Change the set of peers (a membership change): new ones are dialed (or knocked), gone ones closed. */
  setPeers(peers: readonly NodeId[]): void {
    if (this.closed) return;
    const wanted = new Set(peers.filter((p) => p !== this.options.self));
    for (const node of [...this.slots.keys()]) if (!wanted.has(node)) this.removeSlot(node);
    for (const node of wanted) {
      if (this.slots.has(node)) continue;
      const slot = this.addSlot(node);
      if (slot !== undefined && this.signaling === 'open') this.retry(slot);
    }
  }

  /**
   * Test hook and failure hint: drop the connection to `peer` as if the network broke it. The
   * dialer side redials (with backoff) as after any other loss; the acceptor side knocks.
   */
  dropLink(peer: NodeId): void {
    const slot = this.slots.get(peer);
    if (slot?.conn !== undefined) this.failConnection(slot, slot.conn);
  }

  /** Destroy the Peer, every peer connection and channel, and every timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.signalingTimer);
    for (const slot of this.slots.values()) clearSlotTimers(slot);
    this.peer.destroy();
    this.setSignaling('closed');
  }

  private addSlot(node: NodeId): PeerSlot | undefined {
    if (node === this.options.self || this.slots.has(node)) return undefined;
    const slot = newPeerSlot(node, peerJsId(this.options.cluster, node), this.peerId);
    this.slots.set(node, slot);
    this.slotsByRemoteId.set(slot.remoteId, slot);
    return slot;
  }

  private removeSlot(node: NodeId): void {
    const slot = this.slots.get(node);
    if (slot === undefined) return;
    this.slots.delete(node);
    this.slotsByRemoteId.delete(slot.remoteId);
    clearSlotTimers(slot);
    this.endKnock(slot, false);
    const conn = slot.conn;
    slot.conn = undefined;
    conn?.close();
    this.setLinkState(slot, 'closed');
  }

  private createPeer(): Peer {
    const s = this.options.signaling;
    const peer = new Peer(this.peerId, {
      host: s.host,
      port: s.port,
      path: s.path,
      secure: s.secure,
      key: s.key ?? 'peerjs',
      // One token for the life of this object: a Peer recreated after a drop reclaims its id at
      // a server that has not noticed the drop yet, instead of finding it taken.
      token: this.token,
      // Replaces PeerJS's default config, which names public STUN and TURN servers.
      config: { iceServers: [...(this.options.iceServers ?? [])] },
      debug: this.options.debugLevel ?? 0,
    });
    peer.on('open', () => this.handleSignalingOpen(peer));
    peer.on('disconnected', () => this.handleSignalingLost(peer));
    peer.on('close', () => this.handleSignalingLost(peer));
    peer.on('error', (error) => this.handlePeerError(peer, error));
    peer.on('connection', (conn) => this.handleIncoming(peer, conn));
    return peer;
  }

  private handleSignalingOpen(peer: Peer): void {
    if (this.closed || peer !== this.peer) return;
    this.signalingAttempt = 0;
    this.stats.signalingOpened++;
    this.setSignaling('open');
    for (const slot of this.slots.values()) {
      if (slot.conn !== undefined) continue;
      // Dial (or knock) now rather than wait out a backoff that was only waiting for the server.
      // A node that just started knocks on every dialer: one of them may still hold a dead
      // connection to this node's previous page.
      clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
      this.retry(slot);
    }
  }

  /** `disconnected` (server connection lost) or `close` (Peer destroyed, e.g. id taken at first). */
  private handleSignalingLost(peer: Peer): void {
    if (this.closed || this.fatal || peer !== this.peer) return;
    if (this.signaling !== 'disconnected') this.stats.signalingLost++;
    this.setSignaling('disconnected');
    if (this.signalingTimer !== undefined) return;
    const delayMs = backoffDelayMs(this.signalingAttempt++, this.backoff, this.random);
    this.signalingTimer = setTimeout(() => {
      this.signalingTimer = undefined;
      if (this.closed || this.fatal) return;
      if (this.peer.destroyed) {
        // A destroyed Peer cannot reconnect: make a new one with the same id. Its connections
        // are gone with it, so every link is dialed afresh.
        for (const slot of this.slots.values()) {
          this.detachConnection(slot);
          this.endKnock(slot, false);
        }
        this.peer = this.createPeer();
        this.setSignaling('connecting');
      } else if (this.peer.disconnected) {
        this.setSignaling('connecting');
        try {
          this.peer.reconnect();
        } catch {
          // Destroyed meanwhile: its `close` event schedules the next attempt.
        }
      }
    }, delayMs);
  }

  private handlePeerError(peer: Peer, error: PeerError<string>): void {
    if (this.closed || peer !== this.peer) return;
    if (fatalErrorTypes.has(error.type)) {
      // Retrying cannot help: stop (close() still releases everything), and say why.
      this.fatal = true;
      clearTimeout(this.signalingTimer);
      this.signalingTimer = undefined;
      this.setSignaling('closed');
      this.reportError(`webrtc-${error.type}`, error.message);
      return;
    }
    if (error.type === 'peer-unavailable') {
      // "Could not connect to peer <id>": that dial cannot succeed; retry it with backoff.
      const match = /peer (\S+)$/.exec(error.message);
      const slot = match?.[1] === undefined ? undefined : this.slotsByRemoteId.get(match[1]);
      if (slot?.conn !== undefined && !slot.conn.open) this.failConnection(slot, slot.conn);
      // A knock nobody heard: the dialer is not registered, and dials us when it is; knock
      // again later in case it registered meanwhile.
      else if (slot?.knock !== undefined) this.endKnock(slot, true);
    }
    // Everything else (network, socket, server, id taken) ends in `disconnected` or `close`,
    // which retry on their own.
  }

  private dial(slot: PeerSlot): void {
    if (this.closed || slot.conn !== undefined || this.slots.get(slot.node) !== slot) return;
    if (this.peer.disconnected || this.peer.destroyed) return; // redialed on the next `open`
    this.stats.dials++;
    const conn = this.peer.connect(slot.remoteId, { reliable: true, serialization: 'raw', label: negotiatedChannelLabel });
    if (conn === undefined) {
      this.scheduleRetry(slot);
      return;
    }
    this.attach(slot, conn);
  }

  /** Acceptor: ask the dialer to dial (module comment, 5.). Only while we have no connection. */
  private knock(slot: PeerSlot): void {
    if (this.closed || slot.dialer || slot.conn !== undefined || slot.knock !== undefined || this.slots.get(slot.node) !== slot) return;
    if (this.peer.disconnected || this.peer.destroyed) return; // knocked on the next `open`
    this.stats.knocks++;
    const knock = this.peer.connect(slot.remoteId, { reliable: true, serialization: 'raw', label: knockLabel });
    if (knock === undefined) {
      this.scheduleRetry(slot);
      return;
    }
    slot.knock = knock;
    // The dialer closes a knock without answering; its dial, or this timeout, ends it here.
    knock.on('error', () => undefined);
    slot.knockTimer = setTimeout(() => this.endKnock(slot, true), this.dialTimeoutMs);
  }

  /** Close the slot's knock, if any; if no dial came of it, knock again after a backoff. */
  private endKnock(slot: PeerSlot, unanswered: boolean): void {
    clearTimeout(slot.knockTimer);
    slot.knockTimer = undefined;
    const knock = slot.knock;
    if (knock === undefined) return;
    slot.knock = undefined;
    knock.close();
    if (unanswered && slot.conn === undefined) this.scheduleRetry(slot);
  }

  /**
   * Dialer: the acceptor knocked, so it holds no connection to us. A connection we think open
   * is stale (the acceptor's page died without a word, see the module comment) and is replaced
   * now; with none, the pending redial happens now. A dial still in flight is left alone: it
   * either reaches the acceptor or times out (`dialTimeoutMs`) and is redialed.
   */
  private handleKnock(slot: PeerSlot): void {
    this.stats.knocksHeard++;
    if (this.closed || (slot.conn !== undefined && !slot.conn.open)) return;
    // A connection that opened moments ago most likely crossed the knock (the acceptor knocked
    // as it started, before our dial reached it): dropping it would flap a healthy new link
    // (seen in the browser benchmark as a vote lost right after a cluster started). A knock
    // that was real comes again after the acceptor's knock times out.
    if (slot.conn !== undefined && performance.now() - slot.openedAtMs < knockGraceMs) return;
    if (slot.conn !== undefined) {
      this.stats.staleDropped++;
      this.detachConnection(slot);
    }
    clearTimeout(slot.retryTimer);
    slot.retryTimer = undefined;
    slot.attempt = 0;
    this.dial(slot);
  }

  private handleIncoming(peer: Peer, conn: DataConnection): void {
    if (this.closed || peer !== this.peer) return;
    const slot = this.slotsByRemoteId.get(conn.peer);
    if (slot === undefined || slot.dialer) {
      this.stats.refused++;
      conn.close();
      // From a peer we dial, an incoming connection is a knock (whatever its label).
      if (slot !== undefined) this.handleKnock(slot);
      return;
    }
    this.stats.accepted++;
    // The dialer only dials again when it lost its connection (or heard our knock): ours is
    // stale, and the knock has done its job.
    this.endKnock(slot, false);
    clearTimeout(slot.retryTimer);
    slot.retryTimer = undefined;
    this.detachConnection(slot);
    this.attach(slot, conn);
  }

  private attach(slot: PeerSlot, conn: DataConnection): void {
    slot.conn = conn;
    this.setLinkState(slot, 'connecting');
    slot.openTimer = setTimeout(() => {
      if (slot.conn === conn && !conn.open) this.failConnection(slot, conn);
    }, this.dialTimeoutMs);
    conn.on('open', () => this.handleConnectionOpen(slot, conn));
    conn.on('close', () => {
      if (slot.conn === conn) this.failConnection(slot, conn);
    });
    // Connection errors (negotiation failed, ICE closed) are followed by `close`, or by the
    // open timeout when the connection never opened (PeerJS emits no `close` then).
    conn.on('error', () => undefined);
    // PeerJS closes a connection on ICE `failed` only, which Chromium does not report when the
    // other page dies: it reports `connectionState` `failed` (module comment, 5.). Watch that
    // too, with a listener of our own (PeerJS owns the `on...` handlers).
    const pc = conn.peerConnection as RTCPeerConnection | undefined;
    pc?.addEventListener('connectionstatechange', () => {
      if (slot.conn !== conn || (pc.connectionState !== 'failed' && pc.connectionState !== 'closed')) return;
      this.stats.staleDropped++;
      this.failConnection(slot, conn);
    });
  }

  private handleConnectionOpen(slot: PeerSlot, conn: DataConnection): void {
    if (this.closed || slot.conn !== conn) return;
    clearTimeout(slot.openTimer);
    slot.openTimer = undefined;
    slot.attempt = 0;
    this.endKnock(slot, false);
    let channel: RTCDataChannel;
    try {
      channel = conn.peerConnection.createDataChannel(negotiatedChannelLabel, {
        negotiated: true,
        id: negotiatedChannelId,
        ordered: true,
      });
    } catch (e) {
      this.reportError('webrtc-channel', e instanceof Error ? e.message : String(e));
      this.failConnection(slot, conn);
      return;
    }
    this.setLinkState(slot, 'open');
    slot.openedAtMs = performance.now();
    this.stats.channels++;
    // Same task as createDataChannel, nothing sent: the callee may still transfer it.
    try {
      this.options.onChannel(slot.node, channel);
    } catch (e) {
      this.reportError('webrtc-on-channel', e instanceof Error ? e.message : String(e));
    }
  }

  /** Close `conn` (if it is still the slot's); then redial, or knock, after a backoff. */
  private failConnection(slot: PeerSlot, conn: DataConnection): void {
    if (slot.conn !== conn) return;
    this.detachConnection(slot);
    this.scheduleRetry(slot);
  }

  /** Forget and close the slot's connection without scheduling anything. */
  private detachConnection(slot: PeerSlot): void {
    const conn = slot.conn;
    clearTimeout(slot.openTimer);
    slot.openTimer = undefined;
    if (conn === undefined) return;
    slot.conn = undefined;
    conn.close();
    this.setLinkState(slot, 'closed');
  }

  /** Dial (dialer) or knock (acceptor) now. */
  private retry(slot: PeerSlot): void {
    if (slot.dialer) this.dial(slot);
    else this.knock(slot);
  }

  private scheduleRetry(slot: PeerSlot): void {
    if (this.closed || slot.retryTimer !== undefined || this.slots.get(slot.node) !== slot) return;
    // An acceptor waits one backoff step longer than a dialer would: the dialer usually sees
    // the same loss and redials first, and a knock is then not needed.
    const delayMs = backoffDelayMs(slot.dialer ? slot.attempt : slot.attempt + 1, this.backoff, this.random);
    slot.attempt++;
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = undefined;
      this.retry(slot);
    }, delayMs);
  }

  private setLinkState(slot: PeerSlot, state: LinkState): void {
    if (slot.state === state) return;
    slot.state = state;
    this.options.onLinkState?.(slot.node, state);
  }

  private setSignaling(state: SignalingState): void {
    if (this.signaling === state) return;
    this.signaling = state;
    this.options.onSignalingState?.(state);
  }

  private reportError(code: string, message: string): void {
    this.options.onError?.({ code, message });
  }
}

/** A PeerServer session token: 16 random alphanumerics (PeerJS's own are base-36 too). */
function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => (b % 36).toString(36)).join('');
}
