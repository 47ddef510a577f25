/**
 * An intruder on the simulated network (`--intruder`, and the hostile-frame fuzzer): a node
 * WITHOUT the cluster secret that forges frames under members' ids (votes, appends, heartbeats
 * of absurd terms, join requests, acknowledgements, snapshots: every Raft message, mutated or
 * not, tagged with garbage, with a wrong secret, or not at all), replays the frames it captured
 * on the wire, and sends junk (random bytes, truncated and bit-flipped frames, frames for another
 * cluster). As a network attacker it can claim any sender.
 *
 * With `insider` (the fuzzer) a second stranger, a non-member that DOES know the secret, sends
 * authenticated frames of its own whose bodies are hostile (hostile-frames.ts): they pass the
 * authentication and meet the codec's validation and the engines' own refusals.
 *
 * Every frame it sends is marked by kind; the simulated nodes report each frame whose message
 * reached an engine (`accepted`), so a forged or replayed frame that got through is counted, not
 * guessed. The checkers of the run must stay green meanwhile.
 */
import type { Prng } from '../core/prng.ts';
import type { NodeId } from '../core/raft/types.ts';
import { codecLimitsDefault } from '../io/codec-limits.ts';
import { encodeRaftBody } from '../io/codec-raft.ts';
import { LinkGuard } from '../io/crypto/link-guard.ts';
import { envelopeOverheadBytesMax, tryEncodeEnvelope, type ProtocolFamily } from '../io/envelope.ts';
import { FrameRouter } from '../runtime/frame-router.ts';
import { violationsPerCheckerMax, type Violation } from './checkers/violation.ts';
import { chance, pick } from './distributions.ts';
import { emptyMapsBody, garble, hostileRaftBody, messageTemplates } from './hostile-frames.ts';
import { simIdentityKey } from './sim-identity.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';
import { SimTransport } from './sim-transport.ts';

export interface IntruderMix {
  /** Frames sent per second of virtual time. */
  readonly framesPerS: number;
  /** Also a stranger that knows the secret, sending authenticated hostile bodies. */
  readonly insider: boolean;
  /** Now and then a frame larger than any frame may be (4 MiB and more). */
  readonly oversized: boolean;
}

/** The intruder of `npm run sim -- --intruder` and of the mutants' intruder modes: an outsider. */
export const intruderMixDefault: IntruderMix = { framesPerS: 400, insider: false, oversized: false };

export type HostileKind = 'forged' | 'replayed' | 'junk' | 'insider';

export interface IntruderStats {
  sent: number;
  forgedSent: number;
  replayedSent: number;
  junkSent: number;
  insiderSent: number;
  /** The stranger's bodies its own router would not send (larger than a frame). */
  insiderUnsendable: number;
  /** Frames of each kind whose message reached an engine. Forged and replayed must stay 0. */
  forgedAccepted: number;
  /** Copies of a member's frame that reached an engine after the frame already had (see `accepted`). */
  replayedAccepted: number;
  /** Replayed copies that delivered a frame whose original never got through (harmless). */
  replaysRelayed: number;
  junkAccepted: number;
  insiderAccepted: number;
}

export const intruderId = 'intruder';
export const strangerId = 'stranger';
/** The largest body a frame carries. */
const frameBodyBytesMax = codecLimitsDefault.frameBytesMax - envelopeOverheadBytesMax();
/** Frames of members the intruder keeps for replaying. */
const capturedMax = 512;

export interface IntruderOptions {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly peerNet: Network<Uint8Array>;
  readonly cluster: string;
  readonly secret: string;
  readonly members: () => readonly NodeId[];
  readonly mix: IntruderMix;
}

export class Intruder {
  readonly stats: IntruderStats = { sent: 0, forgedSent: 0, replayedSent: 0, junkSent: 0, insiderSent: 0, insiderUnsendable: 0, forgedAccepted: 0, replayedAccepted: 0, replaysRelayed: 0, junkAccepted: 0, insiderAccepted: 0 };
  private readonly marks = new WeakMap<Uint8Array, HostileKind>();
  /** A replayed copy's original (a member's frame as it crossed the wire). */
  private readonly originals = new WeakMap<Uint8Array, Uint8Array>();
  /** Members' frames (originals) whose message reached an engine, by identity. */
  private readonly acceptedOnce = new WeakSet<Uint8Array>();
  private readonly captured: { from: NodeId; to: NodeId; frame: Uint8Array }[] = [];
  /** Frames that got through when they must not have (bounded, as every checker's). */
  readonly violations: Violation[] = [];
  private active = false;
  private endUs = 0;
  /** The stranger with the secret (insider) and its own transport endpoint. */
  private readonly stranger: { transport: SimTransport; router: FrameRouter } | null;
  /** The kind the stranger's next frames are marked with (set around its router's send). */
  private markNext: HostileKind | null = null;

  constructor(private readonly o: IntruderOptions) {
    if (o.mix.insider) {
      const transport = new SimTransport(strangerId, o.peerNet, 1024, (frame) => {
        if (this.markNext !== null) this.marks.set(frame, this.markNext);
      });
      const guard = new LinkGuard({ secret: o.secret, cluster: o.cluster, self: strangerId, epoch: 1, mac: 'sync', identityKey: simIdentityKey(strangerId) });
      const router = new FrameRouter({ transport, cluster: o.cluster, self: strangerId, guard, now: () => o.scheduler.nowUs / 1000 });
      router.onMessage(() => undefined);
      this.stranger = { transport, router };
    } else {
      this.stranger = null;
    }
  }

  /** Whether a frame addressed to `to` is for the intruder's parts (delivered to `receive`). */
  owns(to: NodeId): boolean {
    return to === intruderId || to === strangerId;
  }

  /** A frame for the intruder's parts: the stranger answers hellos through its own router. */
  receive(from: NodeId, to: NodeId, frame: Uint8Array): void {
    if (to === strangerId) this.stranger?.transport.deliver(from, frame);
  }

  /** A frame between members crossed the wire (the intruder listens to everything). */
  capture(from: NodeId, to: NodeId, frame: Uint8Array): void {
    if (this.marks.has(frame) || this.owns(from)) return;
    if (this.captured.length >= capturedMax) this.captured[this.o.prng.nextInt(capturedMax)] = { from, to, frame };
    else this.captured.push({ from, to, frame });
  }

  /** What the intruder sent this frame as; undefined for a member's own frame. */
  kindOf(frame: Uint8Array): HostileKind | undefined {
    return this.marks.get(frame);
  }

  /**
   * A node stepped into its engine a message that came in `frame`. A member's frame must reach
   * an engine at most once, however many copies arrive: a replayed copy counts as accepted when
   * that frame already got through (by the original, another copy, or a duplicate from the
   * network), or when the original gets through after it. A copy that arrives first while its
   * original never got through (lost, or refused because the receiver had not yet learnt the
   * sender's new epoch) delivers the frame once, as any relay could: counted, harmless.
   */
  accepted(to: NodeId, frame: Uint8Array): void {
    const kind = this.marks.get(frame);
    if (kind === 'forged') {
      this.stats.forgedAccepted++;
      this.violate(`a frame forged without the secret reached ${to}'s engine`);
    } else if (kind === 'junk') {
      this.stats.junkAccepted++;
      this.violate(`a junk frame reached ${to}'s engine`);
    } else if (kind === 'insider') this.stats.insiderAccepted++;
    else {
      const original = kind === 'replayed' ? (this.originals.get(frame) ?? frame) : frame;
      if (this.acceptedOnce.has(original)) {
        this.stats.replayedAccepted++;
        this.violate(`a ${kind === 'replayed' ? 'replayed' : 'duplicated'} frame reached ${to}'s engine a second time`);
      } else {
        this.acceptedOnce.add(original);
        if (kind === 'replayed') this.stats.replaysRelayed++;
      }
    }
  }

  private violate(detail: string): void {
    if (this.violations.length < violationsPerCheckerMax) this.violations.push({ property: 'link-authentication', timeUs: this.o.scheduler.nowUs, detail });
  }

  start(endUs: number): void {
    this.active = true;
    this.endUs = endUs;
    this.schedule();
  }

  stop(): void {
    this.active = false;
  }

  private schedule(): void {
    if (this.o.mix.framesPerS <= 0) return;
    const gapUs = Math.max(1, Math.round(-Math.log(1 - this.o.prng.nextFloat()) * (1_000_000 / this.o.mix.framesPerS)));
    this.o.scheduler.after(gapUs, () => {
      if (!this.active || this.o.scheduler.nowUs >= this.endUs) return;
      this.sendOne();
      this.schedule();
    });
  }

  /** Send one hostile frame now (the fuzzer calls this directly, many times per event). */
  sendOne(): void {
    const members = this.o.members();
    if (members.length < 2) return;
    const { prng } = this.o;
    const roll = prng.nextInt(100);
    if (this.stranger !== null && roll < 25) {
      this.insiderFrame(pick(prng, members));
      return;
    }
    const replayable = this.captured.length > 0;
    if (replayable && roll < 45) {
      const c = pick(prng, this.captured);
      const copy = c.frame.slice();
      this.originals.set(copy, c.frame);
      this.send(c.from, c.to, copy, 'replayed');
      return;
    }
    const from = pick(prng, members);
    const to = pick(prng, members.filter((m) => m !== from));
    if (roll < 75) this.forge(from, to);
    else this.junk(from, to);
  }

  /** A frame claiming `from`, with a tag that is garbage (random or zeros), or none at all. */
  private forge(from: NodeId, to: NodeId): void {
    const { prng } = this.o;
    if (this.captured.length > 0 && chance(prng, 0.25)) {
      // A captured frame with a bit flipped in its tag or body.
      const c = pick(prng, this.captured);
      const frame = c.frame.slice();
      const at = frame.length - 1 - prng.nextInt(Math.min(frame.length, 64));
      frame[at] = (frame[at] as number) ^ (1 << prng.nextInt(8));
      this.send(c.from, c.to, frame, 'forged');
      return;
    }
    const body = chance(prng, 0.5) ? encodeRaftBody(pick(prng, messageTemplates(from, to, prng))) : hostileRaftBody(from, to, prng);
    const seq = chance(prng, 0.2) ? 0 : 1 + prng.nextInt(1_000_000);
    let tag: Uint8Array | null = null;
    if (seq > 0) tag = chance(prng, 0.5) ? new Uint8Array(32).map(() => prng.nextInt(256)) : new Uint8Array(32);
    const frame = tryEncodeEnvelope({ family: pick(prng, ['raft', 'raft', 'raft', 'link'] as ProtocolFamily[]), cluster: this.o.cluster, from, to, seq }, body, tag);
    if (frame.ok) this.send(from, to, frame.value, 'forged');
  }

  /** Junk: random bytes, a captured frame cut short or garbled, another cluster's frame, or (rarely) too large a frame. */
  private junk(from: NodeId, to: NodeId): void {
    const { prng } = this.o;
    if (this.o.mix.oversized && chance(prng, 0.001)) {
      this.send(from, to, new Uint8Array(4 * 1024 * 1024 + 1 + prng.nextInt(1024)), 'junk');
      return;
    }
    if (chance(prng, 0.15)) {
      const frame = tryEncodeEnvelope({ family: 'raft', cluster: `${this.o.cluster}-evil`, from, to, seq: 0 }, encodeRaftBody(pick(prng, messageTemplates(from, to, prng))), null);
      if (frame.ok) this.send(from, to, frame.value, 'junk');
      return;
    }
    const c = this.captured.length > 0 ? pick(this.o.prng, this.captured) : null;
    this.send(c?.from ?? from, c?.to ?? to, garble(c?.frame ?? null, prng), 'junk');
  }

  /** The stranger (a non-member with the secret) sends an authenticated hostile body. */
  private insiderFrame(to: NodeId): void {
    const s = this.stranger;
    if (s === null) return;
    const { prng } = this.o;
    // Now and then a body as large as a frame may carry, all empty maps (TESTING.md: "4 MiB of
    // empty maps"); the value count refuses it before anything is built from it.
    const body = chance(prng, 0.002) ? emptyMapsBody(frameBodyBytesMax - prng.nextInt(64)) : hostileRaftBody(strangerId, to, prng);
    // Marked as it leaves the stranger's router, through its transport.
    const before = s.transport.stats.framesSent;
    this.markNext = 'insider';
    try {
      s.router.sendBody('raft', to, body);
    } catch {
      // The stranger's own router would not wrap it (larger than a frame): not sent.
      this.stats.insiderUnsendable++;
    } finally {
      this.markNext = null;
    }
    this.stats.insiderSent += s.transport.stats.framesSent - before;
    this.stats.sent += s.transport.stats.framesSent - before;
  }

  private send(from: NodeId, to: NodeId, frame: Uint8Array, kind: HostileKind): void {
    this.marks.set(frame, kind);
    this.stats.sent++;
    if (kind === 'forged') this.stats.forgedSent++;
    else if (kind === 'replayed') this.stats.replayedSent++;
    else this.stats.junkSent++;
    this.o.peerNet.send(from, to, frame);
  }
}
