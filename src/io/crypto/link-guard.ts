/**
 * The authentication of a node's links (DESIGN.md §4): per pair of nodes a key derived from the
 * cluster secret and both ids (link-keys.ts), an HMAC-SHA256 tag on every frame, a per-link
 * sequence number checked against a replay window, and BOOT EPOCHS, so that a frame captured in
 * one life of either end never passes in another.
 *
 * Why epochs. A replay window lives in memory: after a restart it is empty, and a frame an
 * attacker recorded earlier would be fresh to it. So every node has an epoch for each life, a
 * number that grows from one life to the next (the host makes it from a clock: milliseconds at
 * boot and a few random low bits in browsers, virtual time in the simulator), and a frame's tag
 * covers BOTH the sender's epoch and the receiver's epoch as the sender knows it:
 *
 *   tag = HMAC-SHA256(K(from, to), head || frame)
 *   head = UTF-8("peerquorum link v2") || u64 seq || u64 senderEpoch || u64 receiverEpoch
 *          || lp(from) || lp(to)                                  (lp: u16 length, UTF-8)
 *   frame = the envelope's authenticated bytes (its header and body: src/io/envelope.ts)
 *
 * A frame from a previous life of the sender fails (the receiver checks it under the sender's
 * current epoch); one recorded before the receiver restarted fails (its epoch changed). Nodes
 * learn each other's epochs from HELLO frames (family `link`): body `u64 epoch || u64 peerEpoch
 * || publicKey` (hello-body.ts: the sender's epoch, the receiver's as the sender knows it, 0 if
 * unknown, and the sender's identity key), tagged with those same two epochs in the head. A
 * hello is taken only if its epoch is at least the one already known for that peer (replaying
 * an old hello cannot move a peer back in time); a new epoch resets the peer's replay window
 * (sequence numbers start again at 1 in each life).
 *
 * Identity keys (identity.ts) travel in hellos so that later protocols can check a peer's
 * signatures. The first key a taken hello brings for a peer is kept for the life of this node:
 * a hello that brings another is refused (`identity-changed`), in the same epoch or a newer one.
 * Keys are persistent, so a node that comes back with another key has lost its stored state
 * (and must not run under its old id: it could vote twice), or is someone else with the secret
 * speaking for it; neither may replace the key that signatures from that id are checked with.
 *
 * When to hello: a node sends a hello to a peer whose epoch it does not know before anything
 * else (the data frame itself is held back: Raft sends again), answers a hello that does not
 * name its current epoch, and answers a frame whose tag fails (the sender may not know its new
 * epoch) — each at most once per `helloIntervalMs` per peer, so that forged frames cannot turn
 * it into an amplifier.
 *
 * The MAC is synchronous (the pure-TypeScript HMAC: the simulator, the hostile-frame fuzzer,
 * Node) or asynchronous (Web Crypto, non-extractable keys: browsers); `tag` and `verify` answer
 * a value or a promise accordingly, and the frame router (src/runtime/frame-router.ts) keeps a
 * link's frames in order either way. Bounded: at most `linksMax` peers.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { assert } from '../../core/assert.ts';
import { LinkKeyDeriver, type ClusterSecret } from './link-keys.ts';
import { encodeHelloBody, isIdentityPublicKey, parseHelloBody } from './hello-body.ts';
import { createSyncMac, createWebCryptoMac, equalBytesConstantTime, type AsyncLinkMac, type SyncLinkMac } from './mac.ts';
import { ReplayWindow, replayWindowMaxDefault } from './replay-window.ts';
import { nativeMacFactory, type SyncMacFactory } from './mac-native.ts';

export const linkGuardLabel = 'peerquorum link v2';
/** The most peers a node keeps link state for (keys, windows, epochs). */
export const guardedLinksMaxDefault = 256;
/** At most one hello per peer this often (an answer to forged frames must not amplify them). */
export const helloIntervalMsDefault = 50;
export { helloBodyBytes } from './hello-body.ts';

export type GuardVerdict = 'ok' | 'bad-tag' | 'replayed' | 'too-old' | 'too-many-links' | 'unknown-epoch' | 'stale-hello' | 'identity-changed' | 'malformed';

export interface LinkGuardOptions {
  readonly secret: ClusterSecret;
  readonly cluster: string;
  readonly self: NodeId;
  /** This life's epoch: > 0, and greater than every earlier life's of this node. */
  readonly epoch: number;
  /**
   * `sync`: the pure-TypeScript HMAC; `webcrypto`: Web Crypto (async, non-extractable keys);
   * `native`: Node's own HMAC where the code runs in Node (mac-native.ts), else Web Crypto.
   */
  readonly mac: 'sync' | 'webcrypto' | 'native';
  /** This node's identity key, published in its hellos: the uncompressed P-256 point, 65 bytes. */
  readonly identityKey: Uint8Array;
  readonly linksMax?: number;
  readonly replayWindowMax?: number;
  readonly helloIntervalMs?: number;
}

interface Peer {
  readonly mac: SyncLinkMac | Promise<AsyncLinkMac>;
  readonly sendHead: Uint8Array;
  readonly receiveHead: Uint8Array;
  /** The peer's epoch as last learned from a hello; 0: unknown. */
  epoch: number;
  /** The identity key its first taken hello brought, kept for this life; null: none taken yet. */
  key: Uint8Array | null;
  window: ReplayWindow;
  nextSeq: number;
  /** When a hello last went to it (ms); -Infinity: never. */
  helloAtMs: number;
}

export class LinkGuard {
  readonly self: NodeId;
  readonly epoch: number;
  readonly sync: boolean;
  /** This node's identity key, as its hellos publish it. */
  readonly identityKey: Uint8Array;
  private readonly keys: LinkKeyDeriver;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly linksMax: number;
  private readonly replayWindowMax: number;
  private readonly helloIntervalMs: number;
  private readonly webcrypto: boolean;
  private readonly native: SyncMacFactory | null;

  constructor(options: LinkGuardOptions) {
    assert(Number.isSafeInteger(options.epoch) && options.epoch > 0, 'a link epoch is a positive safe integer');
    assert(isIdentityPublicKey(options.identityKey), 'an identity key is an uncompressed P-256 point (65 bytes, 0x04 first)');
    this.self = options.self;
    this.epoch = options.epoch;
    this.identityKey = options.identityKey.slice();
    this.keys = new LinkKeyDeriver(options.secret, options.cluster);
    this.linksMax = options.linksMax ?? guardedLinksMaxDefault;
    this.replayWindowMax = options.replayWindowMax ?? replayWindowMaxDefault;
    this.helloIntervalMs = options.helloIntervalMs ?? helloIntervalMsDefault;
    this.native = options.mac === 'native' ? nativeMacFactory() : null;
    this.webcrypto = options.mac === 'webcrypto' || (options.mac === 'native' && this.native === null);
    this.sync = !this.webcrypto;
  }

  get linkCount(): number {
    return this.peers.size;
  }

  /** The peer's epoch, 0 if not known yet (no hello taken from it). */
  peerEpoch(peer: NodeId): number {
    return this.peers.get(peer)?.epoch ?? 0;
  }

  /** The identity key `peer` published in its first taken hello (a copy); undefined: none yet. */
  peerKey(peer: NodeId): Uint8Array | undefined {
    return this.peers.get(peer)?.key?.slice();
  }

  /** The identity keys learned from peers' hellos (copies: the kept keys stay as they came). */
  peerKeys(): Map<NodeId, Uint8Array> {
    const keys = new Map<NodeId, Uint8Array>();
    for (const [id, p] of this.peers) if (p.key !== null) keys.set(id, p.key.slice());
    return keys;
  }

  /**
   * The state of the link to `peer`, created on first use; null when `linksMax` are taken by
   * peers whose hellos were taken. Any frame creates one, before anything is authenticated, so a
   * full table gives up the place of a peer that no hello ever authenticated (epoch 0: nothing
   * went to it but hellos, which no window checks), the oldest first; otherwise ids that sent
   * one forged frame each would hold every place for the rest of this life.
   */
  private peer(id: NodeId): Peer | null {
    let p = this.peers.get(id);
    if (p !== undefined) return p;
    if (id === this.self) return null;
    if (this.peers.size >= this.linksMax) {
      const stranger = [...this.peers].find(([, q]) => q.epoch === 0);
      if (stranger === undefined) return null;
      this.peers.delete(stranger[0]);
    }
    const key = this.keys.keyFor(this.self, id);
    p = {
      mac: this.webcrypto ? createWebCryptoMac(key) : (this.native ?? createSyncMac)(key),
      sendHead: headNames(this.self, id),
      receiveHead: headNames(id, this.self),
      epoch: 0,
      key: null,
      window: new ReplayWindow(this.replayWindowMax),
      nextSeq: 1,
      helloAtMs: Number.NEGATIVE_INFINITY,
    };
    this.peers.set(id, p);
    return p;
  }

  /** Whether a link to `peer` may exist (the table is not full, or it is already in it). */
  admits(peer: NodeId): boolean {
    return this.peer(peer) !== null;
  }

  /** The next sequence number on the link to `to` (null: the link table is full). */
  takeSeq(to: NodeId): number | null {
    const p = this.peer(to);
    if (p === null) return null;
    return p.nextSeq++;
  }

  /** Whether it is time to send `to` a hello (and note that one is going now). */
  helloDue(to: NodeId, nowMs: number): boolean {
    const p = this.peer(to);
    if (p === null || nowMs - p.helloAtMs < this.helloIntervalMs) return false;
    p.helloAtMs = nowMs;
    return true;
  }

  /** A hello's body for `to`: this node's epoch, `to`'s as known (0 if not), and this node's identity key. */
  helloBody(to: NodeId): Uint8Array {
    return encodeHelloBody({ epoch: this.epoch, peerEpoch: this.peerEpoch(to), publicKey: this.identityKey });
  }

  /** The tag of a data frame for `to` (its epoch must be known: `peerEpoch(to)` > 0). */
  tagData(to: NodeId, seq: number, frame: Uint8Array): Uint8Array | Promise<Uint8Array> {
    const p = this.peer(to);
    assert(p !== null && p.epoch > 0, `no epoch known for ${to}`);
    return tagWith(p.mac, head(p.sendHead, seq, this.epoch, p.epoch), frame);
  }

  /** The tag of a hello for `to`, whose body `helloBody(to)` made. */
  tagHello(to: NodeId, seq: number, frame: Uint8Array): Uint8Array | Promise<Uint8Array> {
    const p = this.peer(to);
    assert(p !== null, `no link to ${to}`);
    return tagWith(p.mac, head(p.sendHead, seq, this.epoch, p.epoch), frame);
  }

  /** Check a data frame from `from`: its tag under both current epochs, then the replay window. */
  openData(from: NodeId, seq: number, frame: Uint8Array, tag: Uint8Array): GuardVerdict | Promise<GuardVerdict> {
    const p = this.peer(from);
    if (p === null) return 'too-many-links';
    if (p.epoch === 0) return 'unknown-epoch';
    const epoch = p.epoch;
    const verified = verifyWith(p.mac, tag, head(p.receiveHead, seq, epoch, this.epoch), frame);
    const decide = (ok: boolean): GuardVerdict => {
      // The epoch may have moved while an async check ran: the window is the new life's then.
      if (!ok || p.epoch !== epoch) return 'bad-tag';
      return admit(p.window, seq);
    };
    return verified instanceof Promise ? verified.then(decide) : decide(verified);
  }

  /**
   * Check a hello from `from` (body: its epoch, ours as it knows it, its identity key). Taken if
   * its tag holds under those epochs, its key is the one kept for it (or the first), and its
   * epoch is not older than the one known: a newer one is adopted and resets the link's window.
   * `answer`: the sender does not know our current epoch.
   */
  openHello(from: NodeId, seq: number, frame: Uint8Array, tag: Uint8Array, body: Uint8Array): { verdict: GuardVerdict; answer: boolean } | Promise<{ verdict: GuardVerdict; answer: boolean }> {
    const p = this.peer(from);
    if (p === null) return { verdict: 'too-many-links', answer: false };
    const hello = parseHelloBody(body);
    if (hello === null) return { verdict: 'malformed', answer: false };
    const { epoch, peerEpoch: ourEpoch, publicKey } = hello;
    const verified = verifyWith(p.mac, tag, head(p.receiveHead, seq, epoch, ourEpoch), frame);
    const decide = (ok: boolean): { verdict: GuardVerdict; answer: boolean } => {
      if (!ok) return { verdict: 'bad-tag', answer: false };
      if (p.key !== null && !equalBytesConstantTime(p.key, publicKey)) return { verdict: 'identity-changed', answer: false };
      if (epoch < p.epoch) return { verdict: 'stale-hello', answer: false };
      if (epoch > p.epoch) {
        p.epoch = epoch;
        p.window = new ReplayWindow(this.replayWindowMax);
      }
      p.key ??= publicKey;
      return { verdict: 'ok', answer: ourEpoch !== this.epoch };
    };
    return verified instanceof Promise ? verified.then(decide) : decide(verified);
  }
}

function admit(window: ReplayWindow, seq: number): GuardVerdict {
  const check = window.check(seq);
  if (check === 'fresh') {
    window.accept(seq);
    return 'ok';
  }
  return check === 'replayed' ? 'replayed' : 'too-old';
}

function tagWith(mac: SyncLinkMac | Promise<AsyncLinkMac>, h: Uint8Array, frame: Uint8Array): Uint8Array | Promise<Uint8Array> {
  return mac instanceof Promise ? mac.then((m) => m.tag(h, frame)) : mac.tag(h, frame);
}

function verifyWith(mac: SyncLinkMac | Promise<AsyncLinkMac>, tag: Uint8Array, h: Uint8Array, frame: Uint8Array): boolean | Promise<boolean> {
  return mac instanceof Promise ? mac.then((m) => m.verify(tag, h, frame)) : mac.verify(tag, h, frame);
}

const labelBytes = new TextEncoder().encode(linkGuardLabel);
/** Label, then three u64 (seq, sender epoch, receiver epoch), then the names. */
const numbersAt = labelBytes.byteLength;
const namesAt = numbersAt + 24;

/** The fixed part of a direction's head: the label and the names; numbers are written per frame. */
function headNames(from: NodeId, to: NodeId): Uint8Array {
  const enc = new TextEncoder();
  const f = enc.encode(from);
  const t = enc.encode(to);
  const h = new Uint8Array(namesAt + 2 + f.byteLength + 2 + t.byteLength);
  h.set(labelBytes, 0);
  new DataView(h.buffer).setUint16(namesAt, f.byteLength);
  h.set(f, namesAt + 2);
  new DataView(h.buffer).setUint16(namesAt + 2 + f.byteLength, t.byteLength);
  h.set(t, namesAt + 4 + f.byteLength);
  return h;
}

/** A copy of `names` with the numbers written in: a fresh array, safe to hand to an async MAC. */
function head(names: Uint8Array, seq: number, senderEpoch: number, receiverEpoch: number): Uint8Array {
  const h = names.slice();
  writeU64(h, numbersAt, seq);
  writeU64(h, numbersAt + 8, senderEpoch);
  writeU64(h, numbersAt + 16, receiverEpoch);
  return h;
}

function writeU64(bytes: Uint8Array, at: number, value: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(at, Math.floor(value / 0x1_0000_0000));
  v.setUint32(at + 4, value >>> 0);
}
