/**
 * The Node side of WebRTC links: what the browsers' `WebRtcLinks` (src/client/webrtc-links.ts)
 * does with PeerJS, done here with a PeerServer client of our own (peerjs-signaling.ts) and
 * werift peer connections, so that a Node node and browser tabs of one cluster link to each
 * other through the same PeerServer, each side unable to tell the other is not its own kind.
 *
 * It keeps the browsers' rules exactly, because the two ends of a link must agree without
 * talking:
 * 1. The PeerJS id of a node is `peerJsId(cluster, node)` (peerjs-id.ts), the browsers' id.
 * 2. Of each pair, the LOWER PeerJS id dials (an OFFER with PeerJS's own fields, `raw`
 *    serialization, label `peerquorum`) and the other accepts; an offer from a node we dial, or
 *    from a node not in `peers`, is refused (not answered).
 * 3. When the PeerJS channel of a connection opens, BOTH sides create a negotiated channel with
 *    SCTP stream id 512 (`negotiatedChannelId`) on that peer connection and hand it to
 *    `onChannel` (a `WeriftChannel`, for a `DataChannelTransport`): the frames flow there.
 * 4. Retries with capped, jittered backoff: the server socket drops (reconnect with the same
 *    token, so a server that has not noticed the drop yet gives the id back); a connection closes,
 *    fails, is left by its peer (`LEAVE`), or does not open within `dialTimeoutMs` (the peer is
 *    not registered: `EXPIRE`): the dialer redials, the acceptor knocks (5.).
 * 5. Knocking: an acceptor with no connection to its dialer offers it a connection labelled
 *    `peerquorum-knock`; the dialer refuses it but takes it as proof that the acceptor holds no
 *    link, replaces a connection it still thinks open (one opened within `knockGraceMs` is taken
 *    to have crossed the knock and kept) and dials at once. A node restarted after `kill -9` has
 *    sent its peers nothing; this is how they learn it is back.
 *
 * Not done here: the frames (DataChannelTransport's), and who a peer really is (the link
 * guard's, above the transport: an impostor at the PeerServer fails the pair's MAC).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { RTCDataChannel as WeriftDataChannel } from 'werift';
import type { NodeId } from '../../core/raft/types.ts';
import { createPrng, type Prng } from '../../core/prng.ts';
import { peerJsId } from './peerjs-id.ts';
import { PeerJsSignaling, type PeerServerAddress, type SdpInit, type SignalingMessage } from './peerjs-signaling.ts';
import { clearNodeSlotTimers, closePeerConn, newNodePeerSlot, newPeerConn, queueStep, type IceServer, type NodePeerSlot, type PeerConn } from './node-webrtc-slot.ts';
import type { LinkState } from './transport.ts';
import { reconnectDelayMs, validateBackoffLimits, type BackoffLimits } from './websocket-backoff.ts';
import { WeriftChannel } from './werift-channel.ts';

/** The browsers' constants (src/client/webrtc-links.ts): both ends of a link must use the same. */
export const negotiatedChannelId = 512;
export const negotiatedChannelLabel = 'peerquorum';
export const knockLabel = 'peerquorum-knock';
const knockGraceMs = 2_000;

export type NodeSignalingState = 'connecting' | 'open' | 'disconnected' | 'closed';

export interface NodeWebRtcLinksOptions {
  readonly cluster: string;
  readonly self: NodeId;
  readonly peers: readonly NodeId[];
  readonly signaling: PeerServerAddress;
  /** STUN/TURN servers. None by default: host candidates only, nothing leaves the LAN. */
  readonly iceServers?: readonly IceServer[];
  /** A new negotiated channel to `peer`, not used yet; it supersedes any earlier one. */
  readonly onChannel: (peer: NodeId, channel: WeriftChannel) => void;
  readonly onLinkState?: (peer: NodeId, state: LinkState) => void;
  readonly onSignalingState?: (state: NodeSignalingState) => void;
  /** Errors retrying cannot fix (the server refused our key), and callback failures. */
  readonly onError?: (error: { readonly code: string; readonly message: string }) => void;
  /** Default 250 ms to 5 s, the browsers' own. */
  readonly backoff?: BackoffLimits;
  /** A connection that has not opened by then is closed and redialed (default 10 s). */
  readonly dialTimeoutMs?: number;
  /** Draws the backoff jitter (default: seeded from the clock). */
  readonly prng?: Prng;
}

export interface NodeWebRtcLinksStats {
  dials: number;
  accepted: number;
  /** Offers refused: from a node we dial (a knock) or not in `peers`. */
  refused: number;
  knocks: number;
  knocksHeard: number;
  staleDropped: number;
  channels: number;
  signalingLost: number;
  signalingOpened: number;
  /** Signaling steps dropped: more than `pendingStepsMax` waited on one connection. */
  stepsDropped: number;
  /** Server messages dropped as malformed, over their bound, or for no connection of ours. */
  signalsDropped: number;
}

export class NodeWebRtcLinks {
  readonly peerId: string;
  readonly stats: NodeWebRtcLinksStats = { dials: 0, accepted: 0, refused: 0, knocks: 0, knocksHeard: 0, staleDropped: 0, channels: 0, signalingLost: 0, signalingOpened: 0, stepsDropped: 0, signalsDropped: 0 };
  private readonly options: NodeWebRtcLinksOptions;
  private readonly backoff: BackoffLimits;
  private readonly dialTimeoutMs: number;
  private readonly prng: Prng;
  private readonly iceServers: readonly IceServer[];
  private readonly token = randomBytes(12).toString('hex');
  private readonly slots = new Map<NodeId, NodePeerSlot>();
  private readonly slotsByRemoteId = new Map<string, NodePeerSlot>();
  private signaling: PeerJsSignaling;
  private signalingState: NodeSignalingState = 'connecting';
  private signalingAttempt = 0;
  private signalingTimer: ReturnType<typeof setTimeout> | undefined;
  private fatal = false;
  private closed = false;

  constructor(options: NodeWebRtcLinksOptions) {
    this.options = options;
    this.peerId = peerJsId(options.cluster, options.self);
    this.backoff = options.backoff ?? { baseMs: 250, maxMs: 5000 };
    validateBackoffLimits(this.backoff);
    this.dialTimeoutMs = options.dialTimeoutMs ?? 10_000;
    if (!(this.dialTimeoutMs > 0)) throw new RangeError('dialTimeoutMs must be positive');
    this.prng = options.prng ?? createPrng(Date.now());
    this.iceServers = options.iceServers ?? [];
    for (const node of options.peers) this.addSlot(node);
    this.signaling = this.connectSignaling();
  }

  get signalingStatus(): NodeSignalingState {
    return this.signalingState;
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    const out = new Map<NodeId, LinkState>();
    for (const slot of this.slots.values()) out.set(slot.node, slot.state);
    return out;
  }

  /** Change the set of peers: new ones are dialed (or knocked), gone ones closed. */
  setPeers(peers: readonly NodeId[]): void {
    if (this.closed) return;
    const wanted = new Set(peers.filter((p) => p !== this.options.self));
    for (const node of [...this.slots.keys()]) if (!wanted.has(node)) this.removeSlot(node);
    for (const node of wanted) {
      if (this.slots.has(node)) continue;
      const slot = this.addSlot(node);
      if (slot !== undefined && this.signalingState === 'open') this.retry(slot);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.signalingTimer);
    for (const slot of this.slots.values()) {
      clearNodeSlotTimers(slot);
      // Without a word, a werift peer saw its connection to us fail only ~30 s later (ICE consent).
      if (slot.conn !== undefined) this.signaling.leave(slot.remoteId);
      this.detachConnection(slot);
    }
    this.signaling.close();
    this.setSignalingState('closed');
  }

  private addSlot(node: NodeId): NodePeerSlot | undefined {
    if (node === this.options.self || this.slots.has(node)) return undefined;
    const slot = newNodePeerSlot(node, peerJsId(this.options.cluster, node), this.peerId);
    this.slots.set(node, slot);
    this.slotsByRemoteId.set(slot.remoteId, slot);
    return slot;
  }

  private removeSlot(node: NodeId): void {
    const slot = this.slots.get(node);
    if (slot === undefined) return;
    this.slots.delete(node);
    this.slotsByRemoteId.delete(slot.remoteId);
    clearNodeSlotTimers(slot);
    slot.knock = undefined;
    this.detachConnection(slot);
  }

  // ---- the PeerServer ----------------------------------------------------------------------

  private connectSignaling(): PeerJsSignaling {
    const signaling: PeerJsSignaling = new PeerJsSignaling({
      server: this.options.signaling,
      id: this.peerId,
      token: this.token,
      onMessage: (m) => this.handleSignal(signaling, m),
      onClose: () => this.handleSignalingLost(signaling),
    });
    return signaling;
  }

  private handleSignal(from: PeerJsSignaling, m: SignalingMessage): void {
    if (this.closed || from !== this.signaling) return;
    switch (m.type) {
      case 'OPEN':
        this.handleSignalingOpen();
        return;
      case 'INVALID-KEY':
        this.fatal = true;
        this.reportError('webrtc-invalid-key', m.message);
        this.signaling.close();
        this.setSignalingState('closed');
        return;
      case 'ID-TAKEN':
      case 'ERROR':
        // Another session holds our id (a previous life the server has not seen go yet), or the
        // server failed: close, and the reconnect after a backoff asks again.
        this.signaling.close();
        return;
      case 'LEAVE':
      case 'EXPIRE':
        this.handleGone(m.type, m.src);
        return;
      case 'OFFER':
        this.handleOffer(m.src, m.connectionId, m.sdp);
        return;
      case 'ANSWER':
      case 'CANDIDATE':
        this.handleStep(m);
        return;
      default: {
        const unreachable: never = m;
        return unreachable;
      }
    }
  }

  private handleSignalingOpen(): void {
    this.signalingAttempt = 0;
    this.stats.signalingOpened++;
    this.setSignalingState('open');
    for (const slot of this.slots.values()) {
      if (slot.conn !== undefined) continue;
      // Dial or knock now rather than wait out a backoff that only waited for the server; a node
      // that just started knocks on every dialer, one of which may hold a dead connection to it.
      clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
      this.retry(slot);
    }
  }

  private handleSignalingLost(from: PeerJsSignaling): void {
    if (this.closed || this.fatal || from !== this.signaling) return;
    if (this.signalingState !== 'disconnected') this.stats.signalingLost++;
    this.setSignalingState('disconnected');
    if (this.signalingTimer !== undefined) return;
    // Links already made live on without the server (as PeerJS's do); only new ones wait.
    const delayMs = reconnectDelayMs(this.signalingAttempt++, this.prng, this.backoff);
    this.signalingTimer = setTimeout(() => {
      this.signalingTimer = undefined;
      if (this.closed || this.fatal) return;
      this.setSignalingState('connecting');
      this.signaling = this.connectSignaling();
    }, delayMs);
  }

  /** `LEAVE`: the peer's server socket closed, its connections with it. `EXPIRE`: our offer never reached it. */
  private handleGone(type: 'LEAVE' | 'EXPIRE', src: string): void {
    const slot = this.slotsByRemoteId.get(src);
    if (slot === undefined) {
      this.stats.signalsDropped++;
      return;
    }
    const conn = slot.conn;
    if (conn !== undefined && (type === 'LEAVE' || !conn.open)) this.failConnection(slot, conn);
    else if (type === 'EXPIRE' && slot.knock !== undefined) this.endKnock(slot, true);
  }

  // ---- dialing, accepting, knocking -----------------------------------------------------------

  private dial(slot: NodePeerSlot): void {
    if (this.closed || slot.conn !== undefined || this.slots.get(slot.node) !== slot || !this.signaling.isOpen) return;
    this.stats.dials++;
    const conn = newPeerConn(`dc_${randomUUID().replaceAll('-', '')}`, this.iceServers);
    this.attach(slot, conn);
    const channel = conn.pc.createDataChannel(negotiatedChannelLabel, { ordered: true });
    this.watchPeerJsChannel(slot, conn, channel);
    const signaling = this.signaling;
    queueStep(
      conn,
      async () => {
        await conn.pc.setLocalDescription(await conn.pc.createOffer());
        const sdp = conn.pc.localDescription?.sdp;
        if (slot.conn === conn && sdp !== undefined) signaling.offer(slot.remoteId, conn.connectionId, negotiatedChannelLabel, { type: 'offer', sdp });
      },
      (e) => this.stepFailed(slot, conn, e),
    );
  }

  private handleOffer(src: string, connectionId: string, sdp: SdpInit): void {
    const slot = this.slotsByRemoteId.get(src);
    if (slot === undefined || slot.dialer) {
      this.stats.refused++;
      // From a peer we dial, an offer is a knock, whatever its label.
      if (slot !== undefined) this.handleKnock(slot);
      return;
    }
    this.stats.accepted++;
    // The dialer only dials again when it lost its connection (or heard our knock): ours is stale.
    this.endKnock(slot, false);
    clearTimeout(slot.retryTimer);
    slot.retryTimer = undefined;
    this.detachConnection(slot);
    const conn = newPeerConn(connectionId, this.iceServers);
    this.attach(slot, conn);
    const sub = conn.pc.onDataChannel.subscribe((channel) => {
      // The dialer's PeerJS channel is the first; the negotiated one (512) is ours to create.
      if (conn.peerJsChannel === undefined && channel.id !== negotiatedChannelId) this.watchPeerJsChannel(slot, conn, channel);
    });
    conn.unsubscribes.push(() => sub.unSubscribe());
    const signaling = this.signaling;
    queueStep(
      conn,
      async () => {
        await conn.pc.setRemoteDescription(sdp);
        await conn.pc.setLocalDescription(await conn.pc.createAnswer());
        const answer = conn.pc.localDescription?.sdp;
        if (slot.conn === conn && answer !== undefined) signaling.answer(slot.remoteId, connectionId, { type: 'answer', sdp: answer });
      },
      (e) => this.stepFailed(slot, conn, e),
    );
  }

  private handleStep(m: Extract<SignalingMessage, { type: 'ANSWER' | 'CANDIDATE' }>): void {
    const slot = this.slotsByRemoteId.get(m.src);
    const conn = slot?.conn;
    if (slot === undefined || conn === undefined || conn.connectionId !== m.connectionId) {
      // A late message of a connection given up (or a knock's): nothing to apply it to.
      this.stats.signalsDropped++;
      return;
    }
    const step =
      m.type === 'ANSWER'
        ? async (): Promise<void> => conn.pc.setRemoteDescription(m.sdp)
        : async (): Promise<void> => conn.pc.addIceCandidate({ candidate: m.candidate.candidate, ...(m.candidate.sdpMid == null ? {} : { sdpMid: m.candidate.sdpMid }), ...(m.candidate.sdpMLineIndex == null ? {} : { sdpMLineIndex: m.candidate.sdpMLineIndex }) });
    if (!queueStep(conn, step, (e) => this.stepFailed(slot, conn, e))) this.stats.stepsDropped++;
  }

  /** Acceptor: ask the dialer to dial (module comment, 5.); only while we have no connection. */
  private knock(slot: NodePeerSlot): void {
    if (this.closed || slot.dialer || slot.conn !== undefined || slot.knock !== undefined || this.slots.get(slot.node) !== slot || !this.signaling.isOpen) return;
    this.stats.knocks++;
    const connectionId = `dc_${randomUUID().replaceAll('-', '')}`;
    slot.knock = connectionId;
    slot.knockTimer = setTimeout(() => this.endKnock(slot, true), this.dialTimeoutMs);
    // A real offer, so that the dialer's PeerJS takes it as a connection (and refuses it); the
    // peer connection behind it is closed once sent: a knock is never answered.
    const conn = newPeerConn(connectionId, []);
    conn.pc.createDataChannel(knockLabel, { ordered: true });
    const signaling = this.signaling;
    queueStep(
      conn,
      async () => {
        await conn.pc.setLocalDescription(await conn.pc.createOffer());
        const sdp = conn.pc.localDescription?.sdp;
        if (slot.knock === connectionId && sdp !== undefined) signaling.offer(slot.remoteId, connectionId, knockLabel, { type: 'offer', sdp });
      },
      () => undefined,
    );
    void conn.steps.finally(() => closePeerConn(conn));
  }

  /** Close the slot's knock, if any; if no dial came of it, knock again after a backoff. */
  private endKnock(slot: NodePeerSlot, unanswered: boolean): void {
    clearTimeout(slot.knockTimer);
    slot.knockTimer = undefined;
    if (slot.knock === undefined) return;
    slot.knock = undefined;
    if (unanswered && slot.conn === undefined) this.scheduleRetry(slot);
  }

  /** Dialer: the acceptor knocked, so it holds no connection to us (module comment, 5.). */
  private handleKnock(slot: NodePeerSlot): void {
    this.stats.knocksHeard++;
    if (this.closed || (slot.conn !== undefined && !slot.conn.open)) return;
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

  // ---- one connection --------------------------------------------------------------------------

  private attach(slot: NodePeerSlot, conn: PeerConn): void {
    slot.conn = conn;
    this.setLinkState(slot, 'connecting');
    slot.openTimer = setTimeout(() => {
      if (slot.conn === conn && !conn.open) this.failConnection(slot, conn);
    }, this.dialTimeoutMs);
    const signaling = this.signaling;
    const candidates = conn.pc.onIceCandidate.subscribe((c) => {
      if (slot.conn !== conn || c === undefined || c.candidate === '') return;
      signaling.candidate(slot.remoteId, conn.connectionId, { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null });
    });
    // A peer that dies says nothing: its connection turns `failed` when ICE consent lapses.
    const state = conn.pc.connectionStateChange.subscribe((s) => {
      if (slot.conn !== conn || (s !== 'failed' && s !== 'closed')) return;
      this.stats.staleDropped++;
      this.failConnection(slot, conn);
    });
    conn.unsubscribes.push(
      () => candidates.unSubscribe(),
      () => state.unSubscribe(),
    );
  }

  private watchPeerJsChannel(slot: NodePeerSlot, conn: PeerConn, channel: WeriftDataChannel): void {
    conn.peerJsChannel = channel;
    if (channel.readyState === 'open') {
      this.handleConnectionOpen(slot, conn);
      return;
    }
    const sub = channel.stateChanged.subscribe((s) => {
      if (s === 'open') this.handleConnectionOpen(slot, conn);
      else if (s === 'closed' && slot.conn === conn) this.failConnection(slot, conn);
    });
    conn.unsubscribes.push(() => sub.unSubscribe());
  }

  private handleConnectionOpen(slot: NodePeerSlot, conn: PeerConn): void {
    if (this.closed || slot.conn !== conn || conn.open) return;
    conn.open = true;
    clearTimeout(slot.openTimer);
    slot.openTimer = undefined;
    slot.attempt = 0;
    this.endKnock(slot, false);
    let channel: WeriftChannel;
    try {
      channel = new WeriftChannel(conn.pc.createDataChannel(negotiatedChannelLabel, { negotiated: true, id: negotiatedChannelId, ordered: true }));
    } catch (e) {
      this.reportError('webrtc-channel', e instanceof Error ? e.message : String(e));
      this.failConnection(slot, conn);
      return;
    }
    conn.unsubscribes.push(() => channel.dispose());
    this.setLinkState(slot, 'open');
    slot.openedAtMs = performance.now();
    this.stats.channels++;
    try {
      this.options.onChannel(slot.node, channel);
    } catch (e) {
      this.reportError('webrtc-on-channel', e instanceof Error ? e.message : String(e));
    }
  }

  private stepFailed(slot: NodePeerSlot, conn: PeerConn, e: unknown): void {
    // A description or candidate werift refused: this connection cannot come up; try again.
    if (slot.conn !== conn) return;
    this.reportError('webrtc-negotiation', e instanceof Error ? e.message : String(e));
    this.failConnection(slot, conn);
  }

  private failConnection(slot: NodePeerSlot, conn: PeerConn): void {
    if (slot.conn !== conn) return;
    this.detachConnection(slot);
    this.scheduleRetry(slot);
  }

  private detachConnection(slot: NodePeerSlot): void {
    clearTimeout(slot.openTimer);
    slot.openTimer = undefined;
    const conn = slot.conn;
    if (conn === undefined) return;
    slot.conn = undefined;
    slot.openedAtMs = 0;
    closePeerConn(conn);
    this.setLinkState(slot, 'closed');
  }

  private retry(slot: NodePeerSlot): void {
    if (slot.dialer) this.dial(slot);
    else this.knock(slot);
  }

  private scheduleRetry(slot: NodePeerSlot): void {
    if (this.closed || slot.retryTimer !== undefined || this.slots.get(slot.node) !== slot) return;
    // An acceptor waits one step longer: the dialer usually sees the same loss and redials first.
    const delayMs = reconnectDelayMs(slot.dialer ? slot.attempt : slot.attempt + 1, this.prng, this.backoff);
    slot.attempt++;
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = undefined;
      this.retry(slot);
    }, delayMs);
  }

  private setLinkState(slot: NodePeerSlot, state: LinkState): void {
    if (slot.state === state) return;
    slot.state = state;
    this.options.onLinkState?.(slot.node, state);
  }

  private setSignalingState(state: NodeSignalingState): void {
    if (this.signalingState === state) return;
    this.signalingState = state;
    this.options.onSignalingState?.(state);
  }

  private reportError(code: string, message: string): void {
    this.options.onError?.({ code, message });
  }
}
