/**
 * Named errors for expected failures. Each has a stable `code` so that it survives a trip
 * through comlink or the wire as tagged data `{ code, message }` (DESIGN.md §3); the codes are
 * `ErrorCode`s (src/core/error-code.ts).
 */
import type { ErrorCode } from '../error-code.ts';
import type { NodeId } from './types.ts';

export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  readonly code = 'NOT_LEADER' satisfies ErrorCode;
  /** The leader this node believes in, if any: retry there. */
  readonly leaderHint: NodeId | null;
  constructor(leaderHint: NodeId | null) {
    super(leaderHint === null ? 'not the leader; no leader known' : `not the leader; try ${leaderHint}`);
    this.leaderHint = leaderHint;
  }
}

export type ProposalDroppedReason =
  | 'transfer-in-progress'
  | 'uncommitted-limit'
  | 'too-large'
  | 'no-leader'
  | 'config-change-pending'
  | 'leader-not-ready'
  | 'invalid-config-change';

export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError';
  readonly code = 'PROPOSAL_DROPPED' satisfies ErrorCode;
  readonly reason: ProposalDroppedReason;
  constructor(reason: ProposalDroppedReason, detail?: string) {
    super(`proposal dropped: ${reason}${detail === undefined ? '' : ` (${detail})`}`);
    this.reason = reason;
  }
}

export class ReadDroppedError extends Error {
  override readonly name = 'ReadDroppedError';
  readonly code = 'READ_DROPPED' satisfies ErrorCode;
  constructor(reason: string) {
    super(`read dropped: ${reason}`);
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG' satisfies ErrorCode;
}

export type RaftError = NotLeaderError | ProposalDroppedError | ReadDroppedError;
