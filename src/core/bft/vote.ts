/**
 * A one-shot quorum vote (issue 13 item 2; the seed design's `byzantine_quorum_consensus`): the
 * origin asks every member (itself too) for its answer to a proposal; each member's host answers
 * with its own value. The outcome is `quorum-reached` with the value when 2F + 1 members answered
 * and more than F answers agree (so at least one honest member holds that value: F liars alone
 * cannot make it), `no-consensus` as soon as no value can reach F + 1 any more (or at the timeout
 * with 2F + 1 answers and none at F + 1), `timeout` with fewer than 2F + 1 answers in time.
 *
 * Answers are link-authenticated (the runtime's pairwise HMAC): each goes straight to the origin
 * and is never relayed, so no signature is needed; one answer per member counts, the first.
 */
import { BftRefusedError } from './local-input.ts';
import { err, ok, type Result } from '../result.ts';
import { voteProposalBytesMax, voteValueBytesMax } from './limits.ts';
import type { VoteAnswerMessage, VoteRequestMessage } from './messages.ts';
import type { BftContext } from './context.ts';

interface RunningVote {
  readonly deadlineTick: number;
  readonly answers: Map<string, string>;
  readonly values: Map<string, Uint8Array>;
}

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

export class Votes {
  private readonly running = new Map<string, RunningVote>();
  /** Questions handed to the host, by `<voteId>` (their origin is in the id). */
  private readonly questions = new Set<string>();
  private counter = 0;

  constructor(private readonly ctx: BftContext) {}

  start(proposal: Uint8Array, timeoutTicks: number): Result<string, BftRefusedError> {
    const { ctx } = this;
    if (!(proposal instanceof Uint8Array) || !Number.isSafeInteger(timeoutTicks) || timeoutTicks < 1) return err(new BftRefusedError('bad-argument', 'a vote needs bytes and a positive timeout'));
    if (proposal.length > voteProposalBytesMax) return err(new BftRefusedError('too-large', `proposal of ${proposal.length} bytes`));
    if (this.running.size >= ctx.cfg.votesPendingMax) return err(new BftRefusedError('busy', `${this.running.size} votes running`));
    const voteId = `${ctx.id}/${++this.counter}`;
    this.running.set(voteId, { deadlineTick: ctx.now + timeoutTicks, answers: new Map(), values: new Map() });
    for (const r of ctx.cfg.replicas) if (r !== ctx.id) ctx.send(r, { type: 'vote-request', voteId, proposal }, false);
    this.ask(voteId, ctx.id, proposal);
    return ok(voteId);
  }

  private ask(voteId: string, origin: string, proposal: Uint8Array): void {
    if (this.questions.has(voteId)) return;
    if (this.questions.size >= this.ctx.cfg.voteQuestionsPendingMax) {
      this.ctx.counters.voteQuestionsDropped++;
      return;
    }
    this.questions.add(voteId);
    this.ctx.voteQuestions.push({ voteId, origin, proposal });
  }

  handleRequest(m: VoteRequestMessage): void {
    const { ctx } = this;
    if (!ctx.isReplica(m.from) || m.from === ctx.id) {
      ctx.counters.messagesMisrouted++;
      return;
    }
    if (!m.voteId.startsWith(`${m.from}/`)) {
      ctx.counters.wrongSender++;
      return;
    }
    this.ask(m.voteId, m.from, m.proposal);
  }

  /** Our host's answer to a question. */
  answer(voteId: string, origin: string, value: Uint8Array): Result<null, BftRefusedError> {
    if (!this.questions.has(voteId) || !voteId.startsWith(`${origin}/`)) return err(new BftRefusedError('bad-argument', `no question ${voteId} from ${origin}`));
    if (!(value instanceof Uint8Array) || value.length > voteValueBytesMax) return err(new BftRefusedError('too-large', 'vote value'));
    this.questions.delete(voteId);
    if (origin === this.ctx.id) this.record(voteId, this.ctx.id, value);
    else this.ctx.send(origin, { type: 'vote-answer', voteId, value }, false);
    return ok(null);
  }

  handleAnswer(m: VoteAnswerMessage): void {
    if (!this.ctx.isReplica(m.from) || m.from === this.ctx.id) {
      this.ctx.counters.voteAnswersIgnored++;
      return;
    }
    this.record(m.voteId, m.from, m.value);
  }

  private record(voteId: string, from: string, value: Uint8Array): void {
    const v = this.running.get(voteId);
    if (v === undefined || v.answers.has(from)) {
      this.ctx.counters.voteAnswersIgnored++;
      return;
    }
    const key = hexOf(value);
    v.answers.set(from, key);
    if (!v.values.has(key)) v.values.set(key, value);
    this.evaluate(voteId, v, false);
  }

  private evaluate(voteId: string, v: RunningVote, timedOut: boolean): void {
    const { ctx } = this;
    const counts = new Map<string, number>();
    for (const key of v.answers.values()) counts.set(key, (counts.get(key) ?? 0) + 1);
    let bestKey: string | null = null;
    let best = 0;
    for (const [key, n] of counts) if (n > best || (n === best && bestKey !== null && key < bestKey)) [bestKey, best] = [key, n];
    const answered = v.answers.size;
    const n = ctx.cfg.replicas.length;
    let outcome: 'quorum-reached' | 'no-consensus' | 'timeout' | null = null;
    if (answered >= ctx.quorum && best >= ctx.f + 1) outcome = 'quorum-reached';
    else if (best + (n - answered) < ctx.f + 1) outcome = 'no-consensus';
    else if (timedOut) outcome = answered >= ctx.quorum ? 'no-consensus' : 'timeout';
    if (outcome === null) return;
    this.running.delete(voteId);
    const value = outcome === 'quorum-reached' && bestKey !== null ? (v.values.get(bestKey) ?? null) : null;
    ctx.emit({ kind: 'vote-outcome', voteId, outcome, value, answers: answered });
  }

  tick(): void {
    for (const [voteId, v] of [...this.running]) if (this.ctx.now >= v.deadlineTick) this.evaluate(voteId, v, true);
  }
}
