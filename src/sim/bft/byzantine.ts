/**
 * Byzantine replicas of the BFT simulator. A Byzantine replica runs the real host and engine
 * (it knows the protocol and holds its own key), and every message it sends passes through its
 * behaviour, which may rewrite, drop, delay or multiply it and inject messages of its own. The
 * network models AUTHENTICATED links (DESIGN.md §4): a message whose `from` is not the link's
 * sender is dropped at delivery, so a Byzantine replica cannot speak in another's name on the
 * wire, but it can put forged signed content inside what it sends.
 *
 * Behaviours (bft-fault-mix.ts draws one per Byzantine replica):
 * - `equivocate`: as primary, a different batch (the null request, signed) to half the backups.
 * - `forge`: garbage signatures on its prepares, checkpoints and view-changes; checkpoints and
 *   view-changes claiming another replica as signer.
 * - `bad-requests`: requests whose signature is valid for nothing, alone and (as primary)
 *   inside its pre-prepares with a correct batch digest over them.
 * - `replay`: old messages it received or sent, again, to other replicas.
 * - `wrong-digest`: prepares and commits for digests nobody proposed; as primary, a header
 *   digest that is not its batch's.
 * - `silent`: sends nothing. `slow-primary`: pre-prepares held just under the backups' bound
 *   (Aardvark §4.3). `flood`: bursts of junk every tick (Aardvark §4.4).
 * - `collude` (all Byzantine replicas together, the primary of view 0 among them): the
 *   Byzantine primary sends batch A to one half of the honest replicas and the null batch B to
 *   the other half at the same seq, and every colluder prepares and commits A to the first half
 *   and B to the second. With B <= F neither half reaches 2F prepares and 2F + 1 commits; with
 *   F + 1 colluders both do, and the honest halves execute different batches at one seq.
 */
import { primaryOf } from '../../core/bft/config.ts';
import type { BftMessage, PrePrepareMessage } from '../../core/bft/messages.ts';
import type { SignedRequest } from '../../core/bft/types.ts';
import type { Prng } from '../../core/prng.ts';
import type { NodeBftKeyring } from '../../io/crypto/bft-crypto-node.ts';
import { batchDigestOf, requestDigestOf } from '../../io/crypto/bft-digests.ts';
import type { Scheduler } from '../scheduler.ts';
import type { ByzantineBehaviour } from './bft-fault-mix.ts';

export interface ByzantineEnv {
  readonly ids: readonly string[];
  readonly keyring: NodeBftKeyring;
  readonly prng: Prng;
  readonly scheduler: Scheduler;
  /** Put `m` on the wire from its `from`'s link (the network checks `from` at delivery). */
  readonly wire: (m: BftMessage) => void;
  /** How long a slow primary holds a pre-prepare. */
  readonly slowHoldUs: number;
}

const recordedMax = 256;

function garbage(prng: Prng, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = prng.nextInt(256);
  return out;
}

function hex64(prng: Prng): string {
  let s = '';
  for (let i = 0; i < 64; i++) s += '0123456789abcdef'[prng.nextInt(16)];
  return s;
}

/** The colluders' shared plan: which honest replicas get which batch, and what was already split. */
export class Collusion {
  readonly groupA = new Set<string>();
  readonly groupB = new Set<string>();
  /** `view/seq` -> the null-batch pre-prepare sent to group B. */
  private readonly split = new Map<string, PrePrepareMessage>();
  attacks = 0;

  constructor(
    private readonly env: ByzantineEnv,
    readonly members: ReadonlySet<string>,
  ) {
    const honest = env.ids.filter((id) => !members.has(id));
    honest.forEach((id, i) => (i % 2 === 0 ? this.groupA : this.groupB).add(id));
  }

  /** Rewrite what colluder `from` sends; null: drop it. */
  outgoing(m: BftMessage): BftMessage | null {
    if (m.type === 'pre-prepare') return this.prePrepare(m);
    if ((m.type === 'prepare' || m.type === 'commit') && this.groupB.has(m.to) && this.split.has(`${m.view}/${m.seq}`)) return null;
    return m;
  }

  private prePrepare(m: PrePrepareMessage): BftMessage | null {
    const { view, seq } = m.header;
    const key = `${view}/${seq}`;
    let b = this.split.get(key);
    if (b === undefined && m.requests.length > 0 && primaryOf(this.env.ids, view) === m.from) b = this.attack(m);
    if (b === undefined || !this.groupB.has(m.to)) return m;
    return { ...b, to: m.to };
  }

  private attack(m: PrePrepareMessage): PrePrepareMessage {
    const { view, seq } = m.header;
    const { keyring, wire, ids } = this.env;
    const digestB = batchDigestOf([]);
    const b: PrePrepareMessage = { ...m, requests: [], header: { view, seq, digest: digestB, signature: keyring.signAs(m.from, { kind: 'pre-prepare', view, seq, digest: digestB }) } };
    this.split.set(`${view}/${seq}`, b);
    this.attacks++;
    const primary = primaryOf(ids, view);
    for (const c of this.members) {
      for (const [group, digest] of [
        [this.groupA, m.header.digest],
        [this.groupB, digestB],
      ] as const) {
        for (const to of group) {
          if (c !== primary) wire({ type: 'prepare', from: c, to, view, seq, digest, signature: keyring.signAs(c, { kind: 'prepare', view, seq, digest, replica: c }) });
          wire({ type: 'commit', from: c, to, view, seq, digest });
        }
      }
    }
    return b;
  }
}

export class ByzantineReplica {
  private readonly recorded: BftMessage[] = [];
  private ticks = 0;
  injected = 0;

  constructor(
    readonly id: string,
    readonly behaviour: ByzantineBehaviour,
    private readonly env: ByzantineEnv,
    private readonly collusion: Collusion | null,
  ) {}

  private record(m: BftMessage): void {
    if (this.recorded.length >= recordedMax) this.recorded.splice(this.env.prng.nextInt(recordedMax), 1);
    this.recorded.push(m);
  }

  /** A message this replica's host received (kept for replays). */
  incoming(m: BftMessage): void {
    if (this.behaviour === 'replay') this.record(m);
  }

  /** What this replica's host sends goes through here. */
  outgoing(m: BftMessage): void {
    const { env } = this;
    switch (this.behaviour) {
      case 'silent':
        return;
      case 'collude': {
        const out = this.collusion?.outgoing(m) ?? m;
        if (out !== null) env.wire(out);
        return;
      }
      case 'slow-primary':
        if (m.type === 'pre-prepare') env.scheduler.after(env.slowHoldUs, () => env.wire(m));
        else env.wire(m);
        return;
      case 'replay':
        this.record(m);
        env.wire(m);
        return;
      default:
        env.wire(this.rewrite(m));
    }
  }

  private rewrite(m: BftMessage): BftMessage {
    const { prng, keyring } = this.env;
    switch (this.behaviour) {
      case 'equivocate':
        if (m.type === 'pre-prepare' && this.env.ids.indexOf(m.to) % 2 === 0) {
          const { view, seq } = m.header;
          const digest = batchDigestOf([]);
          return { ...m, requests: [], header: { view, seq, digest, signature: keyring.signAs(this.id, { kind: 'pre-prepare', view, seq, digest }) } };
        }
        return m;
      case 'forge':
        if (m.type === 'prepare') return { ...m, signature: garbage(prng, 64) };
        if (m.type === 'checkpoint') return { ...m, checkpoint: { ...m.checkpoint, signature: garbage(prng, 64) } };
        if (m.type === 'view-change') return { ...m, viewChange: { ...m.viewChange, signature: garbage(prng, 64) } };
        return m;
      case 'bad-requests':
        if (m.type === 'pre-prepare') return this.withBadRequest(m);
        return m;
      case 'wrong-digest':
        if (m.type === 'prepare') {
          const digest = hex64(prng);
          return { ...m, digest, signature: keyring.signAs(this.id, { kind: 'prepare', view: m.view, seq: m.seq, digest, replica: this.id }) };
        }
        if (m.type === 'commit') return { ...m, digest: hex64(prng) };
        if (m.type === 'pre-prepare') {
          const { view, seq } = m.header;
          const digest = hex64(prng);
          return { ...m, header: { view, seq, digest, signature: keyring.signAs(this.id, { kind: 'pre-prepare', view, seq, digest }) } };
        }
        return m;
      default:
        return m;
    }
  }

  private badRequest(): SignedRequest {
    const { prng } = this.env;
    const client = prng.nextFloat() < 0.5 ? 'mallory' : 'c0';
    const body = { client, timestamp: 1 + prng.nextInt(1_000_000), op: garbage(prng, 8), readOnly: false };
    return { ...body, signature: garbage(prng, 64), digest: requestDigestOf(body) };
  }

  /** As primary: one request signed by nobody inside the batch, with a batch digest that is right for it (Aardvark §4.1's case). */
  private withBadRequest(m: PrePrepareMessage): PrePrepareMessage {
    const requests = [...m.requests, this.badRequest()];
    const { view, seq } = m.header;
    const digest = batchDigestOf(requests.map((r) => requestDigestOf(r)));
    return { ...m, requests, header: { view, seq, digest, signature: this.env.keyring.signAs(this.id, { kind: 'pre-prepare', view, seq, digest }) } };
  }

  /** One engine tick of this replica: injections of its own. */
  tick(): void {
    this.ticks++;
    const { env } = this;
    const others = env.ids.filter((x) => x !== this.id);
    const to = others[env.prng.nextInt(others.length)] as string;
    switch (this.behaviour) {
      case 'bad-requests':
        if (this.ticks % 20 === 0) for (const r of others) this.inject({ type: 'request', from: this.id, to: r, request: this.badRequest() });
        return;
      case 'forge':
        if (this.ticks % 50 === 0) {
          const victim = others[env.prng.nextInt(others.length)] as string;
          this.inject({ type: 'checkpoint', from: this.id, to, checkpoint: { replica: victim, seq: 16, stateDigest: hex64(env.prng), signature: garbage(env.prng, 64) } });
          const body = { newView: 1 + env.prng.nextInt(4), replica: victim, checkpoint: null, prepared: [] };
          this.inject({ type: 'view-change', from: this.id, to, viewChange: { body, signature: env.keyring.signAs(this.id, { kind: 'view-change', body }) } });
        }
        return;
      case 'replay':
        if (this.ticks % 10 === 0) {
          for (let i = 0; i < 5 && this.recorded.length > 0; i++) {
            const old = this.recorded[env.prng.nextInt(this.recorded.length)] as BftMessage;
            if (old.type === 'reply') continue;
            const target = others[env.prng.nextInt(others.length)] as string;
            this.inject({ ...old, from: this.id, to: target } as BftMessage);
          }
        }
        return;
      case 'flood':
        for (let i = 0; i < 10; i++) {
          const target = others[env.prng.nextInt(others.length)] as string;
          const seq = 1 + env.prng.nextInt(1000);
          this.inject({ type: 'prepare', from: this.id, to: target, view: env.prng.nextInt(3), seq, digest: hex64(env.prng), signature: garbage(env.prng, 64) });
          this.inject({ type: 'status', from: this.id, to: target, view: 0, viewChanging: false, lastExecutedSeq: 0, stableSeq: 0 });
          if (i % 5 === 0) this.inject({ type: 'request', from: this.id, to: target, request: this.badRequest() });
        }
        return;
      default:
        return;
    }
  }

  private inject(m: BftMessage): void {
    this.injected++;
    this.env.wire(m);
  }
}
