/**
 * What this proves: the proposal tracker resubmits a command on its timer only when it may have
 * been lost. A command this node appended to its own log as leader is left alone while the node
 * still leads in that term (a leader never drops an entry of its own term), and is resubmitted
 * once that is no longer so (another term, or not the leader); a forwarded command (submit
 * answers 0) is resubmitted after `retryMs` as before. Driven with a hand-moved clock and a
 * `submit` that records what it is given, so no timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/runtime/clock.ts';
import { ProposalTracker } from '../../src/runtime/proposals.ts';
import { decodeSessionCommand } from '../../src/machines/sessions.ts';

const options = { timeoutMs: 60_000, retryMs: 100, pendingMax: 16, sessionsMax: 4, sessionExpiryEntries: 1_000 };

function tracker(appendedTerm: () => number, leaderTerm: () => number) {
  let nowMs = 0;
  const clock: Clock = { now: () => nowMs, after: () => () => undefined };
  const submitted: string[] = [];
  const t = new ProposalTracker(
    (bytes) => {
      const c = decodeSessionCommand(bytes);
      submitted.push(c.ok ? c.value.type : 'malformed');
      return appendedTerm();
    },
    leaderTerm,
    clock,
    options,
    7,
  );
  return {
    t,
    submitted,
    advance(ms: number) {
      nowMs += ms;
      t.onTimer();
    },
  };
}

/** Register a session for `t` (the registration submitted first) and answer it applied. */
function withSession(h: ReturnType<typeof tracker>): void {
  h.t.propose(new Uint8Array([1]), () => undefined);
  expect(h.submitted).toEqual(['register']);
  // The registration's nonce is in its bytes; the tracker recognises it when applied.
  const [nonce] = [...(h.t as unknown as { registering: Map<number, unknown> }).registering.keys()];
  h.t.onApplied({ type: 'register', nonce: nonce as number }, { status: 'registered', clientId: 1 }, 1);
  expect(h.submitted).toEqual(['register', 'request']);
}

describe('ProposalTracker retries', () => {
  it('does not resubmit what this leader appended in its current term', () => {
    let leaderTerm = 3;
    const h = tracker(() => leaderTerm, () => leaderTerm);
    withSession(h);
    h.advance(10 * options.retryMs);
    expect(h.submitted).toEqual(['register', 'request']);
    // Leadership moved on (a new term): the command may be lost, so it goes again.
    leaderTerm = 4;
    h.advance(10 * options.retryMs);
    expect(h.submitted).toEqual(['register', 'request', 'request']);
  });

  it('resubmits what it forwarded (or could not append) after retryMs', () => {
    const h = tracker(() => 0, () => 0);
    withSession(h);
    h.advance(options.retryMs / 2);
    expect(h.submitted).toEqual(['register', 'request']);
    h.advance(options.retryMs);
    expect(h.submitted).toEqual(['register', 'request', 'request']);
  });

  it('resubmits when this node no longer leads', () => {
    let leading = true;
    const h = tracker(() => 5, () => (leading ? 5 : 0));
    withSession(h);
    h.advance(10 * options.retryMs);
    expect(h.submitted).toEqual(['register', 'request']);
    leading = false;
    h.advance(10 * options.retryMs);
    expect(h.submitted).toEqual(['register', 'request', 'request']);
  });
});
