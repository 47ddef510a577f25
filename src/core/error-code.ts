/**
 * The one set of error codes a user of peerquorum can see: on a `NodeError` the page catches,
 * in the failed half of a `Result`, in an `error` event, in the Playwright harness's answers.
 * Core, runtime and client errors all carry one of these; a finer code of a layer below (the
 * wire codec's `MALFORMED`, a state machine's `KV_DECODE`...) is turned into one of them where
 * an error becomes tagged data (`toTaggedError`, src/runtime/errors.ts), and named in the
 * message. Codes are only ever added, never renamed or given a new meaning: a page and a worker
 * of different builds still understand each other, and a code one of them does not know is
 * read as `INTERNAL` (`knownTaggedError`).
 */
export const errorCodes = [
  /** This node is not the leader, or knows none: retry on the leader (a hint is in the message). */
  'NOT_LEADER',
  /**
   * The leader would not take the proposal (a leadership transfer or a membership change under
   * way, too many uncommitted entries, too many pending proposals...): nothing was appended.
   */
  'PROPOSAL_DROPPED',
  /** The core could not serve the read (not the leader, or not yet sure of its term): retry. */
  'READ_DROPPED',
  /** A proposal or a read did not finish within `proposalTimeoutMs`: a proposal may still be applied. */
  'TIMEOUT',
  /** The client session behind the command expired: the command may or may not have been applied. */
  'SESSION_EXPIRED',
  /** The state machine threw on the command: refused alike on every replica, nothing applied. */
  'REJECTED',
  /** The command or message is larger than the limit: refused at once, never sent. */
  'TOO_LARGE',
  /** The node is not running: never started, closed, stopped after a failure, or its worker did not answer. */
  'STOPPED',
  /** Storage failed (a write not committed, a quota, a corrupt or evicted store): the node stops. */
  'STORAGE',
  /** Bytes that should decode did not: a frame of our own, a state machine's command, result or snapshot. */
  'CODEC',
  /** Options or setup are wrong: a bad option, a module without its exports, a second start, settings that do not fit the wire. */
  'CONFIG',
  /** The node id asked for (or every id of `peers`) runs in another tab of this browser. */
  'ID_IN_USE',
  /** A broken invariant, that is a bug in peerquorum: the node stops and restarts from what is durable. */
  'ASSERTION',
  /**
   * The command is one only the leader's own runtime may propose (a services time command, a
   * tool call's transitions): refused at the proposal boundary, nothing proposed.
   */
  'FORBIDDEN',
  /** Anything else: an error without a code, or with a code this build does not know. */
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

const known: ReadonlySet<unknown> = new Set(errorCodes);

export function isErrorCode(code: unknown): code is ErrorCode {
  return known.has(code);
}

/**
 * An error as data, `{ code, message }`: what crosses comlink and the page's `postMessage`
 * (thrown errors lose their code there), and the default error of a `Result`.
 */
export interface TaggedError {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * A tagged error as it arrived from elsewhere (a worker of another build, a page under test):
 * a code this build does not know becomes `INTERNAL`, and the message keeps the code it had.
 */
export function knownTaggedError(tagged: { readonly code: unknown; readonly message: unknown }): TaggedError {
  const message = typeof tagged.message === 'string' ? tagged.message : String(tagged.message);
  if (isErrorCode(tagged.code)) return { code: tagged.code, message };
  return { code: 'INTERNAL', message: `${String(tagged.code)}: ${message}` };
}
