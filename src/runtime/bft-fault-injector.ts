/**
 * A FAULT INJECTOR for one BFT node, for tests and demos only: it makes this node's replica lie
 * on the wire, so that an end-to-end test (e2e/bft-byzantine.spec.ts) or the demo's Byzantine
 * view (demo/bft-node.ts) can watch the honest members survive it in real browsers. It is NOT a
 * security feature and defends against nothing; it is off (`honest`) unless the page asks
 * (`node.bft.setByzantine(mode)`), and it touches only what THIS node sends.
 *
 * It sits in the worker between the BFT host's `send` and the links (bft-part.ts), so the
 * engine, the host and the codec run unchanged: the lies are made of what the real replica
 * wanted to send, signed with the node's own identity key where a lie must pass the receivers'
 * signature checks (a Byzantine member holds its own key; it cannot sign as another, and the
 * authenticated links stop it speaking under another's id, DESIGN.md §4). Modes:
 *
 * - `equivocate` (PBFT §4.2's reason for prepares): as primary, the first F backups (in replica
 *   order) get the batch the engine built, the other 2F get ANOTHER batch for the same (view,
 *   seq): its requests in reverse order, or the null batch when it has one request. The other
 *   header is re-signed with our key, so it is a validly signed pre-prepare. Why that split: a
 *   pre-prepare to F backups alone changes nothing (the other 2F prepare, they and the primary
 *   are 2F + 1 commits, and the F victims lag behind), so the simulator's half split may never
 *   show a view change. Here the 2F prepare the other batch but gather only 2F commits (the
 *   primary commits its own), the F cannot prepare at all: the request timers fire and the
 *   honest replicas change view (§4.4); what the 2F prepared is carried into the new view.
 * - `forge`: every signature we send is corrupted (pre-prepare headers, prepares, checkpoints,
 *   view-changes, the pre-prepares of a new-view, relayed requests) and every commit names a
 *   digest nobody proposed. As primary that stalls the view: its pre-prepares are refused.
 * - `silent`: nothing our replica sends leaves (a crashed member that still answers its page).
 *
 * Replies and vote answers are left alone in every mode: a client already needs F + 1 (2F + 1
 * for reads) matching replies, which the honest members provide.
 *
 * The simulator's Byzantine replicas (src/sim/bft/byzantine.ts) are the model; their code is not
 * shared because it signs synchronously with a node:crypto keyring of every member's keys and
 * lives above the runtime in the import order; here signing is Web Crypto, asynchronous, with
 * this node's key alone.
 */
import { primaryOf } from '../core/bft/config.ts';
import type { SignedPayload } from '../core/bft/proof-requests.ts';
import type { BftMessage, PrePrepareMessage } from '../core/bft/messages.ts';
import type { Digest, PrePrepareHeader, Signature, SignedRequest } from '../core/bft/types.ts';
import type { NodeId } from '../core/raft/types.ts';
import { batchDigestOf, requestDigestOf } from '../io/crypto/bft-digests.ts';

export const bftByzantineModes = ['honest', 'equivocate', 'forge', 'silent'] as const;
export type BftByzantineMode = (typeof bftByzantineModes)[number];

/** Equivocating pre-prepares waiting for their signature; more are sent unchanged (counted). */
export const equivocationSignsPendingMax = 64;

export interface BftFaultInjectorOptions {
  readonly id: NodeId;
  /** The replicas in the order that fixes each view's primary. */
  readonly replicas: readonly NodeId[];
  /** Sign with this node's own identity key; `done` once, or never if signing failed. */
  readonly sign: (payload: SignedPayload, done: (signature: Signature) => void) => void;
  /** Onto the links. */
  readonly send: (m: BftMessage) => void;
}

export interface BftFaultCounters {
  equivocated: number;
  forged: number;
  dropped: number;
  /** Equivocations not made because too many signatures were pending. */
  equivocationsSkipped: number;
}

export function isBftByzantineMode(x: unknown): x is BftByzantineMode {
  return typeof x === 'string' && (bftByzantineModes as readonly string[]).includes(x);
}

/** The same signature with its first byte flipped: right length, valid for nothing. */
function corruptSignature(s: Signature): Signature {
  const out = new Uint8Array(s);
  if (out.length > 0) out[0] = (out[0] as number) ^ 0xff;
  return out;
}

/** The same hex digest with its first digit changed. */
function corruptDigest(d: Digest): Digest {
  const first = parseInt(d.slice(0, 1), 16);
  return (Number.isNaN(first) ? '0' : (first ^ 1).toString(16)) + d.slice(1);
}

function corruptHeader(h: PrePrepareHeader): PrePrepareHeader {
  return { ...h, signature: corruptSignature(h.signature) };
}

export class BftFaultInjector {
  private modeValue: BftByzantineMode = 'honest';
  private signsPending = 0;
  readonly counters: BftFaultCounters = { equivocated: 0, forged: 0, dropped: 0, equivocationsSkipped: 0 };

  constructor(private readonly o: BftFaultInjectorOptions) {}

  get mode(): BftByzantineMode {
    return this.modeValue;
  }

  setMode(mode: BftByzantineMode): void {
    if (!isBftByzantineMode(mode)) throw new TypeError(`not a Byzantine mode: ${String(mode)}`);
    this.modeValue = mode;
  }

  /** What the replica sends to a peer goes through here. */
  send(m: BftMessage): void {
    switch (this.modeValue) {
      case 'honest':
        return this.o.send(m);
      case 'silent':
        this.counters.dropped++;
        return;
      case 'forge':
        return this.o.send(this.forged(m));
      case 'equivocate':
        if (m.type === 'pre-prepare' && this.isOurView(m)) return this.equivocate(m);
        return this.o.send(m);
      default: {
        const never: never = this.modeValue;
        return never;
      }
    }
  }

  private isOurView(m: PrePrepareMessage): boolean {
    return m.from === this.o.id && primaryOf(this.o.replicas, m.header.view) === this.o.id;
  }

  /** The other half's batch: the same requests in reverse order, or the null batch. */
  private otherBatch(requests: readonly SignedRequest[]): readonly SignedRequest[] {
    return requests.length >= 2 ? [...requests].reverse() : [];
  }

  /** Whether `to` is among the 2F backups that get the other batch (see the header). */
  private getsOtherBatch(primary: NodeId, to: NodeId): boolean {
    const backups = this.o.replicas.filter((r) => r !== primary);
    const f = (this.o.replicas.length - 1) / 3;
    return backups.indexOf(to) >= f;
  }

  private equivocate(m: PrePrepareMessage): void {
    const requests = this.otherBatch(m.requests);
    if (!this.getsOtherBatch(m.from, m.to) || (requests.length === 0 && m.requests.length === 0)) return this.o.send(m);
    if (this.signsPending >= equivocationSignsPendingMax) {
      this.counters.equivocationsSkipped++;
      return this.o.send(m);
    }
    const { view, seq } = m.header;
    const digest = batchDigestOf(requests.map((r) => requestDigestOf(r)));
    this.signsPending++;
    this.o.sign({ kind: 'pre-prepare', view, seq, digest }, (signature) => {
      this.signsPending--;
      this.counters.equivocated++;
      this.o.send({ ...m, requests, header: { view, seq, digest, signature } });
    });
  }

  private forged(m: BftMessage): BftMessage {
    switch (m.type) {
      case 'pre-prepare':
        this.counters.forged++;
        return { ...m, header: corruptHeader(m.header) };
      case 'prepare':
        this.counters.forged++;
        return { ...m, signature: corruptSignature(m.signature) };
      case 'commit':
        this.counters.forged++;
        return { ...m, digest: corruptDigest(m.digest) };
      case 'checkpoint':
        this.counters.forged++;
        return { ...m, checkpoint: { ...m.checkpoint, signature: corruptSignature(m.checkpoint.signature) } };
      case 'view-change':
        this.counters.forged++;
        return { ...m, viewChange: { ...m.viewChange, signature: corruptSignature(m.viewChange.signature) } };
      case 'new-view':
        this.counters.forged++;
        return { ...m, prePrepares: m.prePrepares.map((p) => ({ ...p, header: corruptHeader(p.header) })) };
      case 'request':
        this.counters.forged++;
        return { ...m, request: { ...m.request, signature: corruptSignature(m.request.signature) } };
      default:
        return m;
    }
  }
}
