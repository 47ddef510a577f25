/**
 * What one machine hosted in the composite machine (./composite.ts) must be, and what it is told
 * when a command reaches it.
 *
 * A part sees only what every replica of every engine can give it alike: the command bytes, the
 * command's position (a Raft log index, or a PBFT sequence number), the term or view it was
 * ordered in (0 when the host does not say), and the REPLICATED time: the largest time any
 * `time` command has carried so far. Never the replica's own clock, so that a lease expires at
 * the same command on every replica (a local clock would let two replicas decide a lease
 * differently, and two holders would both believe they hold it).
 *
 * Change reports (`ApplyContext.report`) say, per applied command, what changed, so that the
 * runtime can fire `watch(query, listener)` in log order on every replica without re-reading
 * the whole state after every commit.
 */

/** What changed, as a part reports it (the composite adds the service name). */
export type PartChange =
  /** A key-value key written or deleted. */
  | { readonly kind: 'key'; readonly key: string }
  /** The board (any item, or its recent log). */
  | { readonly kind: 'board' }
  /** A tool call changed state (requested, started, an outcome). */
  | { readonly kind: 'tool-call'; readonly key: string; readonly tool: string; readonly state: string }
  /** An audit record was appended. */
  | { readonly kind: 'audit'; readonly seq: number; readonly tool: string; readonly key: string }
  /** An agent registered, deregistered, expired or sent a heartbeat. */
  | { readonly kind: 'agent'; readonly id: string }
  /** A task was submitted, assigned, requeued, finished or dropped. */
  | { readonly kind: 'task'; readonly id: string; readonly state: string }
  /** A configuration key has a new version. */
  | { readonly kind: 'config'; readonly key: string; readonly version: number }
  /** A lock was taken, renewed, released or expired (token 0: now free). */
  | { readonly kind: 'lock'; readonly name: string; readonly token: number }
  /** An app role has a new holder or none (term 0: vacant). */
  | { readonly kind: 'role'; readonly role: string; readonly term: number }
  /** The replicated time advanced. */
  | { readonly kind: 'time'; readonly timeMs: number }
  /** More changes than one command may report: treat everything of the service as changed. */
  | { readonly kind: 'overflow' };

export type Change = PartChange & { readonly service: string };

export interface ApplyContext {
  /** The command's position: log index (Raft) or sequence number (BFT). Increases by command. */
  readonly index: number;
  /** The term (Raft) or view (BFT) the command was ordered in; 0 when the host does not say. */
  readonly term: number;
  /** The replicated time in ms: the largest time a `time` command carried; 0 before the first. */
  readonly timeMs: number;
  report(change: PartChange): void;
}

export interface MachinePart {
  /** Apply one command; deterministic; may throw (the composite turns a throw into `rejected`). */
  apply(command: Uint8Array, ctx: ApplyContext): Uint8Array;
  /** The replicated time moved forward to `ctx.timeMs`: expire what is due. */
  advanceTime?(ctx: ApplyContext): void;
  /** The whole state; equal states give equal bytes. */
  snapshot(): Uint8Array;
  /** Replace the state with a snapshot's, all or nothing (decode fully, then assign). */
  restore(snapshot: Uint8Array): void;
  /** A local read (linearizable once a ReadIndex answer's index is applied). */
  query?(query: unknown): unknown;
}
