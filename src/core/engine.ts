/**
 * The contract every protocol engine offers its host (DESIGN.md §2): Raft now, gossip and the
 * Byzantine quorum next. An engine is a pure state machine. Everything reaches it through
 * `step` (messages from peers AND local requests: propose, read, campaign, forget a leader,
 * join, hand over leadership) or `tick` (time), and everything it wants done comes out as a
 * `Ready`, which the host handles in the order the Ready states, then acknowledges with
 * `advance`. One Ready is outstanding at a time; the host keeps stepping and ticking while its
 * write is in flight.
 *
 * THE ORDER OF A READY, for every engine (the one Ready processor, src/runtime/ready-loop.ts,
 * is the only code that follows it, for production, the simulator and the golden files alike):
 *
 *   1. `messagesBeforeWrite` may leave AT ONCE: they promise nothing about this node's disk (a
 *      Raft leader's appends and heartbeats, dissertation §10.2.1).
 *   2. The first `appliedBeforeWrite` items to apply may be applied AT ONCE: they are
 *      committed and already durable here.
 *   3. PERSIST what the engine must not forget (`mustPersist`), and wait until it is durable.
 *   4. Only THEN send `messagesAfterWrite` (votes and acknowledgements promise what the write
 *      holds) and apply the rest.
 *   5. `advance()`.
 *
 * With nothing to persist, every message may leave and everything may be applied at once
 * (`messagesAfterWrite` is empty and `appliedBeforeWrite` covers everything).
 */
import type { Result } from './result.ts';

/** The part of every engine's Ready that orders it. */
export interface EngineReady<M> {
  /** Whether the host must persist something before `messagesAfterWrite` may leave. */
  readonly mustPersist: boolean;
  /** Messages that may leave before the write (they promise nothing about this node's disk). */
  readonly messagesBeforeWrite: readonly M[];
  /** Messages that may leave only once the write is durable. */
  readonly messagesAfterWrite: readonly M[];
  /** How many of the Ready's items to apply, from the first, may be applied before the write. */
  readonly appliedBeforeWrite: number;
}

/**
 * An engine: `I` what it takes (messages and local inputs), `O` what a step answers (an
 * accepted local request, or a typed refusal; a message from a peer is always accepted, and
 * whatever in it the engine ignores is counted, never thrown), `R` its Ready.
 */
export interface Engine<I, O, E, R extends EngineReady<unknown>> {
  /** Feed one input. Never throws on input from others; refusals are values. */
  step(input: I): Result<O, E>;
  /** One unit of logical time has passed. */
  tick(): void;
  /** Whether `ready()` has work (false while a Ready is outstanding). */
  hasReady(): boolean;
  /** Take the next batch of work; handle it in the order above, then call `advance`. */
  ready(): R;
  /** The last Ready has been handled: persisted, sent and applied. */
  advance(): void;
}
