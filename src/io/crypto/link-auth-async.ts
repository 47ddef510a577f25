/**
 * The link authenticator on Web Crypto (async). Same contract, same steps in the same order,
 * same results and counters as the synchronous one in link-auth.ts (the tests feed both the same
 * frames and compare); only the MAC runs in `crypto.subtle`, with non-extractable keys. Keys are
 * still derived by the pure-TypeScript HKDF (link-keys.ts), so both backends hold the same key
 * bytes by construction.
 *
 * Why a queue: with an async MAC, two frames of one link that arrive in order can finish
 * verifying out of order, and a driver that delivered each as soon as it verified would reorder
 * the link. Raft survives reordering, but ordered transports (BroadcastChannel, reliable
 * WebRTC) should stay ordered, and the simulator's schedule must not depend on promise timing.
 * `openInOrder` verifies every frame at once (in parallel) and then, link by link, applies the
 * replay window and calls `deliver` IN ARRIVAL ORDER. Different links do not wait for each
 * other. The window step runs in arrival order too, so its results are those of the sync
 * authenticator fed the same frames.
 *
 * `open` alone (no queue) is for callers that do not care about order: the window still
 * accepts each fresh seq once, whatever order the verifications finish in.
 *
 * Bound: at most `pendingOpensMax` frames (default 4,096, all links together) wait in
 * `openInOrder`; past it a frame is refused at once ('overloaded', counted) and `deliver` is
 * never called for it.
 *
 * Every call copies what it needs from the caller's buffers before returning, so the caller may
 * reuse them at once.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { ConfigError } from '../../core/raft/errors.ts';
import { concatBytes } from './bytes.ts';
import {
  admitToWindow,
  checkSealTarget,
  countOpen,
  createLinkAuthCounters,
  isMalformedOpen,
  resolveLinkAuthOptions,
  takeSeq,
  type LinkAuthCounters,
  type LinkAuthOptions,
  type OpenResult,
  type SealResult,
  type SealWithResult,
} from './link-auth.ts';
import { LinkHead } from './link-tag-input.ts';
import { createWebCryptoMac, type AsyncLinkMac } from './mac.ts';
import { ReplayWindow } from './replay-window.ts';

/** The default bound on frames waiting in `openInOrder`, all links together. */
export const pendingOpensMaxDefault = 4096;

export interface AsyncLinkAuthOptions extends LinkAuthOptions {
  /** Most frames waiting in `openInOrder`; default 4,096. */
  readonly pendingOpensMax?: number;
}

export type OpenInOrderResult = 'queued' | 'overloaded';

export interface AsyncLinkAuthenticator {
  readonly self: NodeId;
  readonly cluster: string;
  readonly counters: Readonly<LinkAuthCounters>;
  readonly linkCount: number;
  /** Frames waiting in `openInOrder` now. */
  readonly pendingOpens: number;
  /**
   * As the sync `seal`; the seq is taken when called, so seqs follow call order. A bad `to`
   * rejects with ConfigError.
   */
  seal(to: NodeId, frame: Uint8Array): Promise<SealResult>;
  sealWith(to: NodeId, encode: (seq: number) => Uint8Array): Promise<SealWithResult>;
  /** As the sync `open`; never rejects on any input. */
  open(from: NodeId, seq: number, frame: Uint8Array, tag: Uint8Array): Promise<OpenResult>;
  /**
   * Open a frame and call `deliver(result)` after every earlier frame of the same `from` was
   * delivered. 'overloaded': refused now, `deliver` never called. An exception thrown by
   * `deliver` does not stop the queue; it is rethrown from a fresh microtask (uncaught).
   */
  openInOrder(
    from: NodeId,
    seq: number,
    frame: Uint8Array,
    tag: Uint8Array,
    deliver: (result: OpenResult) => void,
  ): OpenInOrderResult;
}

interface AsyncLink {
  readonly mac: Promise<AsyncLinkMac>;
  readonly window: ReplayWindow;
  readonly sendHead: LinkHead;
  readonly receiveHead: LinkHead;
  nextSeq: number;
}

/** Steps 1 and 2 of `open`: dropped, or verified under `mac`. */
type Verdict = { readonly verified: false; readonly result: 'malformed' | 'bad-tag' } | { readonly verified: true; readonly mac: AsyncLinkMac };

interface QueuedOpen {
  readonly from: NodeId;
  readonly seq: number;
  readonly verdict: Promise<Verdict>;
  readonly deliver: (result: OpenResult) => void;
}

/**
 * The frames of one link waiting in `openInOrder`, oldest at `head`; slots before `head` are
 * cleared, and compacted away once they are half the array.
 */
interface LinkQueue {
  readonly items: (QueuedOpen | undefined)[];
  head: number;
}

const queueCompactSlotsMin = 1024;

export function createAsyncLinkAuthenticator(options: AsyncLinkAuthOptions): AsyncLinkAuthenticator {
  const config = resolveLinkAuthOptions(options);
  const pendingOpensMax = options.pendingOpensMax ?? pendingOpensMaxDefault;
  if (!Number.isSafeInteger(pendingOpensMax) || pendingOpensMax < 1) {
    throw new ConfigError(`pendingOpensMax must be a positive integer, got ${String(pendingOpensMax)}`);
  }
  const { self } = config;
  const links = new Map<NodeId, AsyncLink>();
  const queues = new Map<NodeId, LinkQueue>();
  const counters = createLinkAuthCounters();
  let pendingOpens = 0;

  const makeLink = (peer: NodeId, mac: Promise<AsyncLinkMac>): AsyncLink => ({
    mac,
    window: new ReplayWindow(config.replayWindowMax),
    sendHead: new LinkHead(self, peer),
    receiveHead: new LinkHead(peer, self),
    nextSeq: config.sendSeqFirst,
  });

  // Synchronous up to the MAC, so that seqs are taken in call order.
  const sealWith = async (to: NodeId, encode: (seq: number) => Uint8Array): Promise<SealWithResult> => {
    let link = links.get(to);
    if (link === undefined) {
      checkSealTarget(self, to);
      if (links.size >= config.linksMax) {
        counters.tooManyLinks++;
        return { ok: false, error: 'too-many-links' };
      }
      link = makeLink(to, createWebCryptoMac(config.keys.keyFor(self, to)));
      links.set(to, link);
    }
    const seq = takeSeq(link);
    const frame = encode(seq);
    const message = concatBytes(link.sendHead.withSeq(seq), frame);
    const tag = await (await link.mac).tag(message);
    counters.sealed++;
    return { ok: true, seq, frame, tag };
  };

  /** Steps 1 and 2; copies the caller's bytes before its first await. */
  const verify = async (from: NodeId, seq: number, frame: Uint8Array, tag: Uint8Array): Promise<Verdict> => {
    if (isMalformedOpen(self, from, seq, frame, tag)) return { verified: false, result: 'malformed' };
    const link = links.get(from);
    const head = link === undefined ? new LinkHead(from, self) : link.receiveHead;
    const message = concatBytes(head.withSeq(seq), frame);
    const tagCopy = new Uint8Array(tag);
    // A new peer: a key for this frame only; the link is kept in step 3 only if the tag is good.
    const mac = await (link === undefined ? createWebCryptoMac(config.keys.keyFor(self, from)) : link.mac);
    return (await mac.verify(tagCopy, message)) ? { verified: true, mac } : { verified: false, result: 'bad-tag' };
  };

  /** Steps 3 to 5, synchronous: in `openInOrder` they run in arrival order. */
  const finish = (from: NodeId, seq: number, verdict: Verdict): OpenResult => {
    if (!verdict.verified) return verdict.result;
    let link = links.get(from);
    if (link === undefined) {
      if (links.size >= config.linksMax) return 'too-many-links';
      link = makeLink(from, Promise.resolve(verdict.mac));
      links.set(from, link);
    }
    return admitToWindow(link.window, seq);
  };

  const drain = async (from: NodeId, queue: LinkQueue): Promise<void> => {
    while (queue.head < queue.items.length) {
      const item = queue.items[queue.head]!;
      let result: OpenResult | undefined;
      let failure: unknown = undefined;
      try {
        result = countOpen(counters, finish(from, item.seq, await item.verdict));
      } catch (error) {
        failure = error; // Web Crypto itself failed: not the peer's doing, so not a drop.
      }
      queue.items[queue.head++] = undefined; // let the frame go
      if (queue.head >= queueCompactSlotsMin && 2 * queue.head >= queue.items.length) {
        queue.items.splice(0, queue.head);
        queue.head = 0;
      }
      pendingOpens--;
      try {
        if (result !== undefined) item.deliver(result);
      } catch (error) {
        failure = error;
      }
      if (failure !== undefined) queueMicrotask(() => { throw failure; });
    }
    queues.delete(from);
  };

  return {
    self,
    cluster: config.cluster,
    counters,
    get linkCount() {
      return links.size;
    },
    get pendingOpens() {
      return pendingOpens;
    },
    async seal(to, frame) {
      const result = await sealWith(to, () => frame);
      return result.ok ? { ok: true, seq: result.seq, tag: result.tag } : result;
    },
    sealWith,
    async open(from, seq, frame, tag) {
      const verdict = verify(from, seq, frame, tag);
      return countOpen(counters, finish(from, seq, await verdict));
    },
    openInOrder(from, seq, frame, tag, deliver) {
      if (pendingOpens >= pendingOpensMax) {
        counters.overloaded++;
        return 'overloaded';
      }
      pendingOpens++;
      const item: QueuedOpen = { from, seq, verdict: verify(from, seq, frame, tag), deliver };
      const queue = queues.get(from);
      if (queue !== undefined) {
        queue.items.push(item);
      } else {
        const fresh: LinkQueue = { items: [item], head: 0 };
        queues.set(from, fresh);
        void drain(from, fresh);
      }
      return 'queued';
    },
  };
}
