/**
 * A node's link authenticator: it seals the frames the node sends (a sequence number and a tag
 * per frame) and opens the frames it receives (tag, then replay window), with one key, one send
 * counter and one replay window per peer. This file holds the contract, the types both backends
 * share, and the synchronous backend (pure TypeScript, for the simulator, the fuzzer, and any
 * runtime that prefers it); link-auth-async.ts is the Web Crypto backend, with the same results.
 *
 * The contract, for the runtime that calls it:
 *
 *   SEND   r = seal(to, frame)            frame = the frame's bytes without the tag
 *          (or sealWith(to, seq => encode the envelope with seq in it))
 *          send frame, r.seq and r.tag
 *   RECV   result = open(from, seq, frame, tag)
 *          hand the frame to the decoder and the engines ONLY when result === 'ok', and then
 *          ONLY if the decoded envelope's `from` equals the `from` given to open, its `to` is
 *          this node, and (when the envelope carries seq) its seq equals `seq`. Drop anything
 *          else and count it.
 *
 * What the tag covers is in link-tag-input.ts; the key of a link in link-keys.ts.
 *
 * `open` does its steps IN THIS ORDER, each a drop with its own result and counter:
 *   1. 'malformed'      `from` not a name (empty, lone surrogate, over 65,535 bytes) or this
 *                       node's own id; `seq` not an integer in 1..2^53-1; `tag` not bytes.
 *   2. 'bad-tag'        the tag is not HMAC(K(from, self), head(seq, from, self) || frame).
 *   3. 'too-many-links' the tag is good but `from` is a new peer and the table holds `linksMax`.
 *   4. 'replayed'       seq already accepted on this link; 'too-old': seq more than
 *                       `replayWindowMax` behind the highest (replay-window.ts).
 *   5. 'ok'             seq is recorded in the window.
 * The window moves only in step 5, after the tag verified: a forged frame cannot advance it,
 * and a peer enters the link table only with a good tag, so forged frames with made-up ids
 * cannot fill the table and lock real peers out.
 *
 * Bounds: at most `linksMax` links (default 1,024), each a key, a window of `replayWindowMax`
 * bits and two heads; past it `seal` and `open` refuse with 'too-many-links', never grow.
 *
 * What it does not stop (say so in docs/protocol.md):
 * - A member knows the secret, so it can derive every pair's key and speak as anyone. The
 *   secret authenticates the CLUSTER, not a node; signatures with identity keys (identity.ts)
 *   are for what must be attributable.
 * - Restarts. Sequence numbers and windows live in memory. A RECEIVER that restarts forgets its
 *   windows and accepts, once, old frames replayed to it (Raft tolerates duplicates; the codec
 *   already assumed replays, docs/protocol.md §10). A SENDER that restarts must not start again
 *   at 1, or its peers drop its frames as replayed or too old until their windows are passed:
 *   the runtime gives `sendSeqFirst` a number above anything it sent before (a persisted
 *   counter, or e.g. `Date.now() * 1024`, which stays a safe integer until the year 2248).
 */
import type { NodeId } from '../../core/raft/types.ts';
import { assert } from '../../core/assert.ts';
import { ConfigError } from '../../core/raft/errors.ts';
import { nameProblem, lengthPrefixedBytesMax } from './bytes.ts';
import { checkLinkName, LinkKeyDeriver, type ClusterSecret } from './link-keys.ts';
import { LinkHead } from './link-tag-input.ts';
import { createSyncMac, type SyncLinkMac } from './mac.ts';
import { checkReplayWindowMax, ReplayWindow, replayWindowMaxDefault } from './replay-window.ts';

/** The default bound on the link table (peers this node seals for or opens from). */
export const linksMaxDefault = 1024;

export interface LinkAuthOptions {
  /** The cluster secret (link-keys.ts). */
  readonly secret: ClusterSecret;
  readonly cluster: string;
  /** This node's id. */
  readonly self: NodeId;
  /** Most peers with a link; default 1,024. */
  readonly linksMax?: number;
  /** Window of each link, in sequence numbers; a multiple of 32, default 1,024. */
  readonly replayWindowMax?: number;
  /** The first seq sealed on each link; default 1 (see "Restarts" above). */
  readonly sendSeqFirst?: number;
}

export interface SyncLinkAuthOptions extends LinkAuthOptions {
  /** The MAC backend: only the synchronous one here (the async one is link-auth-async.ts). */
  readonly mac?: 'sync';
}

export type SealResult =
  | { readonly ok: true; readonly seq: number; readonly tag: Uint8Array }
  | { readonly ok: false; readonly error: 'too-many-links' };

export type SealWithResult =
  | { readonly ok: true; readonly seq: number; readonly frame: Uint8Array; readonly tag: Uint8Array }
  | { readonly ok: false; readonly error: 'too-many-links' };

export const openResults = ['ok', 'malformed', 'bad-tag', 'too-many-links', 'replayed', 'too-old'] as const;
export type OpenResult = (typeof openResults)[number];

/** What the authenticator did, for the driver's metrics. */
export interface LinkAuthCounters {
  sealed: number;
  opened: number;
  malformed: number;
  badTag: number;
  /** Refusals for a full link table, by `seal` and by `open`. */
  tooManyLinks: number;
  replayed: number;
  tooOld: number;
  /** Frames refused by `openInOrder` because `pendingOpensMax` were waiting (async only). */
  overloaded: number;
}

export interface LinkAuthenticator {
  readonly self: NodeId;
  readonly cluster: string;
  readonly counters: Readonly<LinkAuthCounters>;
  /** Links in the table now (at most `linksMax`). */
  readonly linkCount: number;
  /** Number and tag `frame` for `to`. `to` is our own choice: a bad one throws (ConfigError). */
  seal(to: NodeId, frame: Uint8Array): SealResult;
  /** Like `seal`, for a wire format that carries seq inside the frame: `encode(seq)` makes it. */
  sealWith(to: NodeId, encode: (seq: number) => Uint8Array): SealWithResult;
  /** Check a received frame (see the header for the steps); never throws on any input. */
  open(from: NodeId, seq: number, frame: Uint8Array, tag: Uint8Array): OpenResult;
}

/** Options checked once, with defaults applied. */
export interface ResolvedLinkAuthOptions {
  readonly keys: LinkKeyDeriver;
  readonly cluster: string;
  readonly self: NodeId;
  readonly linksMax: number;
  readonly replayWindowMax: number;
  readonly sendSeqFirst: number;
}

/** Check the options (throws ConfigError) and derive the HKDF PRK from the secret. */
export function resolveLinkAuthOptions(options: LinkAuthOptions): ResolvedLinkAuthOptions {
  checkLinkName(options.self, 'self');
  const linksMax = options.linksMax ?? linksMaxDefault;
  const sendSeqFirst = options.sendSeqFirst ?? 1;
  if (!Number.isSafeInteger(linksMax) || linksMax < 1) {
    throw new ConfigError(`linksMax must be a positive integer, got ${String(linksMax)}`);
  }
  if (!Number.isSafeInteger(sendSeqFirst) || sendSeqFirst < 1) {
    throw new ConfigError(`sendSeqFirst must be a positive safe integer, got ${String(sendSeqFirst)}`);
  }
  const replayWindowMax = options.replayWindowMax ?? replayWindowMaxDefault;
  checkReplayWindowMax(replayWindowMax);
  return {
    keys: new LinkKeyDeriver(options.secret, options.cluster),
    cluster: options.cluster,
    self: options.self,
    linksMax,
    replayWindowMax,
    sendSeqFirst,
  };
}

export function createLinkAuthCounters(): LinkAuthCounters {
  return { sealed: 0, opened: 0, malformed: 0, badTag: 0, tooManyLinks: 0, replayed: 0, tooOld: 0, overloaded: 0 };
}

/** Count one `open` result. */
export function countOpen(counters: LinkAuthCounters, result: OpenResult): OpenResult {
  switch (result) {
    case 'ok':
      counters.opened++;
      break;
    case 'malformed':
      counters.malformed++;
      break;
    case 'bad-tag':
      counters.badTag++;
      break;
    case 'too-many-links':
      counters.tooManyLinks++;
      break;
    case 'replayed':
      counters.replayed++;
      break;
    case 'too-old':
      counters.tooOld++;
      break;
    default: {
      const never: never = result;
      assert(false, `unknown open result ${String(never)}`);
    }
  }
  return result;
}

/** Step 1 of `open`: true when these values from the network cannot be a frame of a peer. */
export function isMalformedOpen(self: NodeId, from: unknown, seq: unknown, frame: unknown, tag: unknown): boolean {
  return (
    nameProblem(from, lengthPrefixedBytesMax) !== null ||
    from === self ||
    !Number.isSafeInteger(seq) ||
    (seq as number) < 1 ||
    !(frame instanceof Uint8Array) ||
    !(tag instanceof Uint8Array)
  );
}

/** Steps 4 and 5 of `open`, on a link whose tag verified. */
export function admitToWindow(window: ReplayWindow, seq: number): OpenResult {
  const check = window.check(seq);
  switch (check) {
    case 'fresh':
      window.accept(seq);
      return 'ok';
    case 'replayed':
      return 'replayed';
    case 'too-old':
      return 'too-old';
    case 'invalid':
      assert(false, 'seq was checked in step 1');
      return 'malformed';
    default: {
      const never: never = check;
      assert(false, `unknown replay check ${String(never)}`);
      return 'malformed';
    }
  }
}

/** The next seq to seal on a link; asserts the 2^53 numbers are not used up (they never are). */
export function takeSeq(link: { nextSeq: number }): number {
  const seq = link.nextSeq;
  assert(Number.isSafeInteger(seq), 'the send seq of a link stays a safe integer');
  link.nextSeq = seq + 1;
  return seq;
}

/** A peer we send to is our own choice: a bad id is a bug or a misconfiguration. */
export function checkSealTarget(self: NodeId, to: NodeId): void {
  checkLinkName(to, 'seal to');
  if (to === self) throw new ConfigError(`a node does not seal frames for itself (${JSON.stringify(to)})`);
}

interface SyncLink {
  readonly mac: SyncLinkMac;
  readonly window: ReplayWindow;
  readonly sendHead: LinkHead;
  readonly receiveHead: LinkHead;
  nextSeq: number;
}

export function createLinkAuthenticator(options: SyncLinkAuthOptions): LinkAuthenticator {
  if (options.mac !== undefined && options.mac !== 'sync') {
    throw new ConfigError(`createLinkAuthenticator runs the sync MAC; got mac ${JSON.stringify(options.mac)}`);
  }
  const config = resolveLinkAuthOptions(options);
  const { self } = config;
  const links = new Map<NodeId, SyncLink>();
  const counters = createLinkAuthCounters();

  const makeLink = (peer: NodeId, mac: SyncLinkMac): SyncLink => ({
    mac,
    window: new ReplayWindow(config.replayWindowMax),
    sendHead: new LinkHead(self, peer),
    receiveHead: new LinkHead(peer, self),
    nextSeq: config.sendSeqFirst,
  });

  const linkToSealFor = (to: NodeId): SyncLink | undefined => {
    const existing = links.get(to);
    if (existing !== undefined) return existing;
    checkSealTarget(self, to);
    if (links.size >= config.linksMax) return undefined;
    const link = makeLink(to, createSyncMac(config.keys.keyFor(self, to)));
    links.set(to, link);
    return link;
  };

  const sealWith = (to: NodeId, encode: (seq: number) => Uint8Array): SealWithResult => {
    const link = linkToSealFor(to);
    if (link === undefined) {
      counters.tooManyLinks++;
      return { ok: false, error: 'too-many-links' };
    }
    const seq = takeSeq(link);
    const frame = encode(seq);
    const tag = link.mac.tag(link.sendHead.withSeq(seq), frame);
    counters.sealed++;
    return { ok: true, seq, frame, tag };
  };

  const openUncounted = (from: NodeId, seq: number, frame: Uint8Array, tag: Uint8Array): OpenResult => {
    if (isMalformedOpen(self, from, seq, frame, tag)) return 'malformed';
    let link = links.get(from);
    if (link === undefined) {
      // A new peer: verify under a key derived for this frame only, and keep the link only if
      // the tag is good (so forged ids never take a slot).
      const mac = createSyncMac(config.keys.keyFor(self, from));
      if (!mac.verify(tag, new LinkHead(from, self).withSeq(seq), frame)) return 'bad-tag';
      if (links.size >= config.linksMax) return 'too-many-links';
      link = makeLink(from, mac);
      links.set(from, link);
    } else if (!link.mac.verify(tag, link.receiveHead.withSeq(seq), frame)) {
      return 'bad-tag';
    }
    return admitToWindow(link.window, seq);
  };

  return {
    self,
    cluster: config.cluster,
    counters,
    get linkCount() {
      return links.size;
    },
    seal(to, frame) {
      const result = sealWith(to, () => frame);
      return result.ok ? { ok: true, seq: result.seq, tag: result.tag } : result;
    },
    sealWith,
    open(from, seq, frame, tag) {
      return countOpen(counters, openUncounted(from, seq, frame, tag));
    },
  };
}
