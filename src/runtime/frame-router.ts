/**
 * The frame router (DESIGN.md §4): between a node's transport (frames to and from peers) and its
 * engines (messages). Everything a peer sends passes here first, and nothing reaches an engine
 * before it was decoded, authenticated and validated:
 *
 *   1. the envelope (src/io/envelope.ts): bounded, strictly parsed; for this cluster and this
 *      node; and from the peer the transport says it came from (a peer must not speak for
 *      another);
 *   2. authentication, when the cluster has a secret (src/io/crypto/link-guard.ts): the tag
 *      under the pair's key and both nodes' epochs, then the link's replay window; `link`
 *      frames (hellos) teach the link epochs and the peers' identity keys. Without a secret,
 *      frames carry no tag and a tagged frame is refused (this node could not check it);
 *   3. the family's codec (src/io/family-codecs.ts) reads the body: `raft` goes to the Raft
 *      engine's handler, `gossip` to the gossip host's (`gossip`), `bft` to the BFT part's
 *      (`bft`: replica and client messages alike); a family no engine of this
 *      node speaks (no handler: a gossip-only node's Raft frames, a Raft-only node's gossip
 *      frames) is refused as UNSUPPORTED_FAMILY before its body is read.
 *
 * Every refusal is counted by cause (`metrics.dropped`), never thrown and never one event per
 * frame. Verification may be asynchronous (Web Crypto): a link's frames are then queued, at
 * most `inboundPerLinkMax`, and delivered in the order they arrived; with the synchronous MAC
 * (the simulator, Node) they are delivered at once, in the same order, event for event.
 *
 * Sending is the mirror: the family codec encodes, the envelope wraps, the guard tags (a link's
 * frames leave in order even when tagging is asynchronous), the transport sends. A frame for a
 * peer whose epoch is not known yet is held back (a few per peer) and a hello goes instead; the
 * held frames leave once the peer's hello is taken (one round trip later, not when Raft sends
 * again: the followers of a 3-node cluster never talk until the leader is gone, and their first
 * vote requests used to wait out an election timeout).
 */
import type { BftWireMessage } from '../io/codec-bft.ts';
import type { GossipMessage } from '../core/gossip/messages.ts';
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { bftClientNodeOf } from '../io/bft-client-id.ts';
import { decodeBftBody, tryEncodeBftBody } from '../io/codec-bft.ts';
import { decodeClientBody, tryEncodeClientBody, type ClientBody } from '../io/codec-client.ts';
import { decodeGossipBody, tryEncodeGossipBody } from '../io/codec-gossip.ts';
import { decodeRaftBody, tryEncodeRaftBody } from '../io/codec-raft.ts';
import { codecLimitsDefault, type CodecLimits } from '../io/codec-limits.ts';
import { decodeEnvelope, tryEncodeEnvelope, tryPrepareEnvelope, type DecodedEnvelope, type EnvelopeHeader, type ProtocolFamily } from '../io/envelope.ts';
import type { GuardVerdict, LinkGuard } from '../io/crypto/link-guard.ts';
import type { LinkState, Transport } from '../io/transport/transport.ts';

/** What an engine's host talks through: messages to and from peers (the router does the rest). */
export interface PeerLink<M> {
  send(message: M): void;
  onMessage(handler: (message: M) => void): void;
  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void;
  close(): Promise<void>;
}

export interface FrameRouterOptions {
  readonly transport: Transport;
  readonly cluster: string;
  readonly self: NodeId;
  /** The links' authentication; null: the cluster has no secret (links unauthenticated). */
  readonly guard: LinkGuard | null;
  /** A monotonic clock in ms (hello pacing). */
  readonly now: () => number;
  readonly limits?: CodecLimits;
  /** Frames of one link waiting for an asynchronous check; more are refused. */
  readonly inboundPerLinkMax?: number;
  /** Bytes of those frames, at most (frames are up to 4 MiB each); more are refused. */
  readonly inboundBytesPerLinkMax?: number;
  /** Our own frames kept for a peer whose epoch is not known yet, sent once it is; the oldest go first. */
  readonly heldPerPeerMax?: number;
}

export interface RouterMetrics {
  framesIn: number;
  /** Frames that reached an engine (or the link layer: hellos). */
  framesAccepted: number;
  framesDropped: number;
  /** Refusals by cause: codec codes, guard verdicts, `wrong-sender`, `unauthenticated`... */
  readonly dropped: Record<string, number>;
  framesOut: number;
  hellosSent: number;
  hellosTaken: number;
  /** Frames held back for a peer whose epoch was not known yet (a hello went instead)... */
  framesHeldForEpoch: number;
  /** ...of which sent once the peer's hello came, and dropped for room (`heldPerPeerMax`). */
  framesSentAfterHello: number;
  framesHeldDropped: number;
}

export const inboundPerLinkMaxDefault = 1024;
export const inboundBytesPerLinkMaxDefault = 16 * 1024 * 1024;
export const heldPerPeerMaxDefault = 64;

type Verdict = GuardVerdict | { verdict: GuardVerdict; answer: boolean };

interface Inbound {
  readonly envelope: DecodedEnvelope;
  /** The check, started at once, or (behind a hello still being checked) when its turn comes. */
  verdict: Promise<Verdict> | null;
  readonly start: () => Verdict | Promise<Verdict>;
  readonly bytes: number;
}

interface InboundQueue {
  readonly frames: Inbound[];
  bytes: number;
  /** Hellos queued and not yet judged: a data frame behind one is checked after it (its epoch may change). */
  hellos: number;
}

/** A second engine's side of the router (the gossip host): its messages, over the same links and guard. */
export interface FamilyLink<M> {
  send(message: M): void;
  onMessage(handler: (message: M) => void): void;
}

export class FrameRouter implements PeerLink<Message> {
  readonly metrics: RouterMetrics = { framesIn: 0, framesAccepted: 0, framesDropped: 0, dropped: {}, framesOut: 0, hellosSent: 0, hellosTaken: 0, framesHeldForEpoch: 0, framesSentAfterHello: 0, framesHeldDropped: 0 };
  private handler: ((m: Message) => void) | null = null;
  private gossipHandler: ((m: GossipMessage) => void) | null = null;
  private bftHandler: ((m: BftWireMessage) => void) | null = null;
  private clientHandler: ((from: NodeId, body: ClientBody) => void) | null = null;
  /** The `gossip` family's messages, both ways, through this router's envelope, guard and codec. */
  readonly gossip: FamilyLink<GossipMessage> = {
    send: (m) => this.sendGossip(m),
    onMessage: (handler) => {
      this.gossipHandler = handler;
    },
  };
  /** The `bft` family's messages, both ways (request digests computed by the codec at decode). */
  readonly bft: FamilyLink<BftWireMessage> = {
    // A reply to a node's client (bft-client-id.ts) goes to that node.
    send: (m) => this.sendFamily('bft', bftClientNodeOf(m.to) ?? m.to, tryEncodeBftBody(m, this.limits)),
    onMessage: (handler) => {
      this.bftHandler = handler;
    },
  };
  /**
   * The `client` family (src/io/codec-client.ts): requests of programs that are not members
   * (the command line) and a node's replies, over the same links and guard as every family.
   * Its bodies name no sender, so the handler is told who sent them.
   */
  readonly client = {
    send: (to: NodeId, body: ClientBody): void => this.sendFamily('client', to, tryEncodeClientBody(body, this.limits)),
    onBody: (handler: (from: NodeId, body: ClientBody) => void): void => {
      this.clientHandler = handler;
    },
  };
  private readonly limits: CodecLimits;
  private readonly inboundPerLinkMax: number;
  private readonly inboundBytesPerLinkMax: number;
  private readonly heldPerPeerMax: number;
  /** Asynchronous checks in flight, per link, in arrival order. */
  private readonly inbound = new Map<NodeId, InboundQueue>();
  /** Our frames for peers whose epoch is not known yet (bounded per peer, and in peers by the guard's links). */
  private readonly held = new Map<NodeId, { family: ProtocolFamily; body: Uint8Array }[]>();
  /** Asynchronous tagging in flight, per link: frames leave in order. */
  private readonly outbound = new Map<NodeId, Promise<void>>();
  private closed = false;

  constructor(private readonly o: FrameRouterOptions) {
    this.limits = o.limits ?? codecLimitsDefault;
    this.inboundPerLinkMax = o.inboundPerLinkMax ?? inboundPerLinkMaxDefault;
    this.inboundBytesPerLinkMax = o.inboundBytesPerLinkMax ?? inboundBytesPerLinkMaxDefault;
    this.heldPerPeerMax = o.heldPerPeerMax ?? heldPerPeerMaxDefault;
    o.transport.onFrame((from, frame) => this.receive(from, frame));
  }

  /** Whether links are authenticated (the cluster has a secret). */
  get authenticated(): boolean {
    return this.o.guard !== null;
  }

  /**
   * The identity keys peers published in their hellos, one per peer, the first kept (the link
   * guard holds them, at most its `linksMax`). Empty without a secret: no hellos are sent then.
   */
  peerKeys(): ReadonlyMap<NodeId, Uint8Array> {
    return this.o.guard?.peerKeys() ?? new Map<NodeId, Uint8Array>();
  }

  /** The identity key `peer` published (see `peerKeys`); undefined when none was learned. */
  peerKey(peer: NodeId): Uint8Array | undefined {
    return this.o.guard?.peerKey(peer);
  }

  onMessage(handler: (m: Message) => void): void {
    this.handler = handler;
  }

  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void {
    this.o.transport.onLinkState(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.o.transport.close();
  }

  // ---- sending -------------------------------------------------------------------------------

  send(m: Message): void {
    if (this.closed) return;
    const body = tryEncodeRaftBody(m, this.limits);
    // Our own messages are checked by the same rules as our peers': a refusal is our bug or a
    // misconfiguration (the driver checks at startup that its settings fit: checkRaftFitsFrames).
    if (!body.ok) throw body.error;
    this.sendFrame('raft', m.to, body.value);
  }

  private sendGossip(m: GossipMessage): void {
    if (this.closed) return;
    this.sendFamily('gossip', m.to, tryEncodeGossipBody(m, this.limits));
  }

  private sendFamily(family: ProtocolFamily, to: NodeId, body: ReturnType<typeof tryEncodeGossipBody>): void {
    if (this.closed) return;
    // As for Raft: the engines bound what they send, so a refusal here is our bug.
    if (!body.ok) throw body.error;
    this.sendFrame(family, to, body.value);
  }

  /**
   * Resolves once every frame whose tag was being computed has gone to the transport (a node
   * that says goodbye before it closes its links: the gossip host's `leave`).
   */
  async flush(): Promise<void> {
    await Promise.all([...this.outbound.values()]);
  }

  /**
   * Send an encoded body of `family` to `to` (an engine whose family codec lives with it: the
   * gossip and BFT engines to come; the simulator's stranger). The envelope and the tag are the
   * router's, as for every frame.
   */
  sendBody(family: ProtocolFamily, to: NodeId, body: Uint8Array): void {
    if (!this.closed) this.sendFrame(family, to, body);
  }

  private sendFrame(family: ProtocolFamily, to: NodeId, body: Uint8Array): void {
    const guard = this.o.guard;
    if (guard === null) {
      this.emit(to, { family, cluster: this.o.cluster, from: this.o.self, to, seq: 0 }, body, null);
      return;
    }
    if (family !== 'link' && guard.peerEpoch(to) === 0) {
      // Not yet: the peer's epoch is what every tag to it covers. Ask for it, and keep the frame
      // until it comes (a bounded few: Raft sends again whatever is dropped here).
      this.metrics.framesHeldForEpoch++;
      this.hold(to, family, body);
      this.hello(to);
      return;
    }
    const seq = guard.takeSeq(to);
    if (seq === null) {
      this.drop('too-many-links');
      return;
    }
    const header: EnvelopeHeader = { family, cluster: this.o.cluster, from: this.o.self, to, seq };
    const prepared = tryPrepareEnvelope(header, body, this.limits);
    if (!prepared.ok) throw prepared.error;
    const tag = family === 'link' ? guard.tagHello(to, seq, prepared.value.authenticated) : guard.tagData(to, seq, prepared.value.authenticated);
    if (!(tag instanceof Promise)) {
      this.transmit(to, prepared.value.seal(tag));
      return;
    }
    // Tags computed in parallel, frames sent in order.
    const before = this.outbound.get(to) ?? Promise.resolve();
    const sent = Promise.all([before, tag]).then(([, t]) => this.transmit(to, prepared.value.seal(t)));
    this.outbound.set(to, sent);
    void sent.finally(() => {
      if (this.outbound.get(to) === sent) this.outbound.delete(to);
    });
  }

  private emit(to: NodeId, header: EnvelopeHeader, body: Uint8Array, tag: Uint8Array | null): void {
    const frame = tryEncodeEnvelope(header, body, tag, this.limits);
    if (!frame.ok) throw frame.error;
    this.transmit(to, frame.value);
  }

  private transmit(to: NodeId, frame: Uint8Array): void {
    if (this.closed) return;
    this.metrics.framesOut++;
    this.o.transport.send(to, frame);
  }

  private hold(to: NodeId, family: ProtocolFamily, body: Uint8Array): void {
    let frames = this.held.get(to);
    if (frames === undefined) {
      frames = [];
      this.held.set(to, frames);
    }
    if (frames.length >= this.heldPerPeerMax) {
      frames.shift();
      this.metrics.framesHeldDropped++;
    }
    frames.push({ family, body });
  }

  /** A peer's epoch became known: what was held for it goes now, in order. */
  private sendHeld(to: NodeId): void {
    const frames = this.held.get(to);
    if (frames === undefined) return;
    this.held.delete(to);
    for (const f of frames) {
      this.metrics.framesSentAfterHello++;
      this.sendFrame(f.family, to, f.body);
    }
  }

  private hello(to: NodeId): void {
    const guard = this.o.guard;
    if (guard === null || !guard.helloDue(to, this.o.now())) return;
    this.metrics.hellosSent++;
    this.sendFrame('link', to, guard.helloBody(to));
  }

  // ---- receiving -----------------------------------------------------------------------------

  private receive(from: NodeId, frame: Uint8Array): void {
    if (this.closed) return;
    this.metrics.framesIn++;
    const decoded = decodeEnvelope(frame, this.limits, { cluster: this.o.cluster, self: this.o.self });
    if (!decoded.ok) {
      this.drop(decoded.error.code);
      return;
    }
    const envelope = decoded.value;
    if (envelope.from !== from) {
      this.drop('wrong-sender');
      return;
    }
    const guard = this.o.guard;
    if (guard === null) {
      // Without a secret this node can check no tag: a tagged frame is not taken on trust.
      if (envelope.auth !== null) this.drop('unexpected-tag');
      else this.deliver(envelope);
      return;
    }
    if (envelope.auth === null) {
      this.drop('unauthenticated');
      return;
    }
    const queue = this.inbound.get(from);
    // The bounds first: a frame refused here must start no check (a verification in flight
    // holds a copy of the frame, and would still take its seq into the replay window).
    if (queue !== undefined && (queue.frames.length >= this.inboundPerLinkMax || queue.bytes + frame.byteLength > this.inboundBytesPerLinkMax)) {
      this.drop('overloaded');
      return;
    }
    const hello = envelope.family === 'link';
    const tag = envelope.auth;
    const start = (): Verdict | Promise<Verdict> =>
      hello ? guard.openHello(from, envelope.seq, envelope.authenticated, tag, envelope.body) : guard.openData(from, envelope.seq, envelope.authenticated, tag);
    if (queue === undefined) {
      const verdict = start();
      if (!(verdict instanceof Promise)) {
        this.judged(envelope, verdict);
        return;
      }
      // An asynchronous check: later frames of the link queue behind it, delivered in order.
      const q: InboundQueue = { frames: [{ envelope, verdict, start, bytes: frame.byteLength }], bytes: frame.byteLength, hellos: hello ? 1 : 0 };
      this.inbound.set(from, q);
      void this.drain(from, q);
      return;
    }
    // Behind a hello still being checked, a data frame waits for it: the hello may bring the
    // epoch the frame's tag covers.
    const verdict = queue.hellos > 0 && !hello ? null : Promise.resolve(start());
    queue.frames.push({ envelope, verdict, start, bytes: frame.byteLength });
    queue.bytes += frame.byteLength;
    if (hello) queue.hellos++;
  }

  private async drain(from: NodeId, q: InboundQueue): Promise<void> {
    while (q.frames.length > 0) {
      const next = q.frames[0] as Inbound;
      next.verdict ??= Promise.resolve(next.start());
      const verdict = await next.verdict;
      q.frames.shift();
      q.bytes -= next.bytes;
      if (next.envelope.family === 'link') q.hellos--;
      if (!this.closed) this.judged(next.envelope, verdict);
    }
    this.inbound.delete(from);
  }

  private judged(envelope: DecodedEnvelope, verdict: GuardVerdict | { verdict: GuardVerdict; answer: boolean }): void {
    if (typeof verdict !== 'string') {
      // A hello: it taught us the peer's epoch, or it was refused.
      if (verdict.verdict !== 'ok') {
        this.drop(`hello-${verdict.verdict}`);
        return;
      }
      this.metrics.hellosTaken++;
      this.metrics.framesAccepted++;
      if (verdict.answer) this.hello(envelope.from);
      this.sendHeld(envelope.from);
      return;
    }
    if (verdict !== 'ok') {
      this.drop(verdict);
      // The sender may not know our epoch (we restarted): tell it, at most so often.
      if (verdict === 'bad-tag' || verdict === 'unknown-epoch') this.hello(envelope.from);
      return;
    }
    this.deliver(envelope);
  }

  private deliver(envelope: DecodedEnvelope): void {
    const { family, from, to, body } = envelope;
    if (family === 'raft' && this.handler !== null) {
      const message = decodeRaftBody(body, { from, to, limits: this.limits });
      if (!message.ok) return this.drop(message.error.code);
      this.metrics.framesAccepted++;
      this.handler(message.value);
      return;
    }
    if (family === 'gossip' && this.gossipHandler !== null) {
      const message = decodeGossipBody(body, { from, to, limits: this.limits });
      if (!message.ok) return this.drop(message.error.code);
      this.metrics.framesAccepted++;
      this.gossipHandler(message.value);
      return;
    }
    if (family === 'bft' && this.bftHandler !== null) {
      const message = decodeBftBody(body, { from, to, limits: this.limits });
      if (!message.ok) return this.drop(message.error.code);
      this.metrics.framesAccepted++;
      this.bftHandler(message.value);
      return;
    }
    if (family === 'client' && this.clientHandler !== null) {
      const message = decodeClientBody(body, this.limits);
      if (!message.ok) return this.drop(message.error.code);
      this.metrics.framesAccepted++;
      this.clientHandler(from, message.value);
      return;
    }
    // No engine of this node speaks the family (its body is never read).
    this.drop(family === 'link' ? 'link-without-secret' : 'UNSUPPORTED_FAMILY');
  }

  private drop(cause: string): void {
    this.metrics.framesDropped++;
    this.metrics.dropped[cause] = (this.metrics.dropped[cause] ?? 0) + 1;
  }
}
