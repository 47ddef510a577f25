/**
 * `node.bft` on a page (issue 13 items 2 and 3): the one-shot quorum vote of a BFT node
 * (`createNode({ protocol: 'bft', ... })`), over the worker's BFT calls (worker-protocol.ts).
 *
 * Proposals and answers are JSON values, compared by their JSON text (UTF-8): members that
 * answer "the same" must build it alike (the same key order). Each member answers with its own
 * value: by default the proposal itself ("I agree"); a page that registers `onVote(handler)`
 * answers every question itself, with what its handler returns (a handler that throws leaves the
 * question unanswered: the asker counts it as silence). The outcome is `quorum-reached` with the
 * value when 2F + 1 members answered and more than F agree (F liars alone cannot make it),
 * `no-consensus`, or `timeout`.
 */
import type { NodeId } from '../core/raft/types.ts';
import type { BftNodeEvent, NodeEvent, NodeEventType, WorkerApi } from '../runtime/worker-protocol.ts';
import type { BftByzantineMode } from '../runtime/bft-fault-injector.ts';
export type { BftByzantineMode };
import type * as Comlink from 'comlink';
import { unwrap } from './node-error.ts';

export type BftVoteResult<T = unknown> =
  | { readonly outcome: 'quorum-reached'; readonly value: T; readonly answers: number }
  | { readonly outcome: 'no-consensus' | 'timeout'; readonly answers: number };

export type VoteHandler = (proposal: unknown, from: NodeId) => unknown;

export interface BftHandle {
  /** Ask every member; resolves once 2F + 1 answered and more than F agree, or it cannot, or at `timeoutMs` (default 5 s). */
  vote<T = unknown>(proposal: unknown, options?: { readonly timeoutMs?: number }): Promise<BftVoteResult<T>>;
  /** Answer every vote question with `handler` (register it in every member); returns a function that goes back to the default. */
  onVote(handler: VoteHandler): Promise<() => Promise<void>>;
  /**
   * TESTS AND DEMOS ONLY, not a security feature: a fault injector that makes this member lie on
   * the wire (src/runtime/bft-fault-injector.ts): `equivocate` (as primary, different signed
   * pre-prepares to different backups), `forge` (corrupted signatures and digests), `silent`
   * (sends nothing); `honest` turns it off. The others must survive it while this member is one
   * of at most F liars; status shows the mode (`status().bft.byzantine`).
   */
  setByzantine(mode: BftByzantineMode): Promise<void>;
}

const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const decode = (b: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(b)) as unknown;

type On = <T extends NodeEventType>(type: T, listener: (event: Extract<NodeEvent, { type: T }>) => void) => () => void;

export function bftHandle(api: Comlink.Remote<WorkerApi>, on: On, checkOpen: () => void): BftHandle {
  let off: (() => void) | null = null;
  return {
    async vote<T>(proposal: unknown, options: { readonly timeoutMs?: number } = {}): Promise<BftVoteResult<T>> {
      checkOpen();
      const r = unwrap(await api.bftVote(encode(proposal), options.timeoutMs ?? 5_000));
      if (r.outcome !== 'quorum-reached') return r;
      return { outcome: r.outcome, value: decode(r.value) as T, answers: r.answers };
    },
    async onVote(handler: VoteHandler) {
      checkOpen();
      off?.();
      off = on('bft-vote-question', (e: Extract<BftNodeEvent, { type: 'bft-vote-question' }>) => {
        void (async () => {
          const value: unknown = await handler(decode(e.proposal), e.origin);
          unwrap(await api.bftAnswerVote(e.voteId, e.origin, encode(value)));
        })().catch(() => undefined);
      });
      unwrap(await api.bftVoteHandler(true));
      return async () => {
        off?.();
        off = null;
        unwrap(await api.bftVoteHandler(false));
      };
    },
    async setByzantine(mode: BftByzantineMode) {
      checkOpen();
      unwrap(await api.bftSetByzantine(mode));
    },
  };
}
