/**
 * What a gossip node tells its host happened, in its Ready (`events`): the membership view as it
 * changes, so that a page can draw the member table live and the runtime can act on phi
 * (forget a Raft leader that phi says is gone, where Web Locks cannot see across browsers), and
 * the CRDTs whose values changed.
 */
import type { CrdtTypeName } from '../crdt/crdt-types.ts';
import type { CrdtChange } from './crdt-change.ts';
import type { MemberState, NodeId } from './types.ts';

/** A member's state or incarnation changed in this node's view (this node itself included). */
export interface MemberChangedEvent {
  readonly kind: 'member-changed';
  readonly member: NodeId;
  /** null when the member was not known before. */
  readonly previous: MemberState | null;
  readonly state: MemberState;
  readonly incarnation: number;
  /** The member's phi at the change (0 with no arrivals yet, and for this node itself). */
  readonly phi: number;
}

/**
 * A member's phi crossed `phiThreshold`: upward (`suspected`: its messages are overdue by the
 * phi accrual detector) or back down. Independent of SWIM's suspicion, which needs a failed
 * probe round; phi reacts as soon as the member's usual rhythm breaks.
 */
export interface MemberPhiEvent {
  readonly kind: 'member-phi';
  readonly member: NodeId;
  readonly phi: number;
  readonly suspected: boolean;
}

/**
 * A CRDT's state changed since the last Ready: by a local update (`local`), or by merging a
 * peer's delta or state that held news (`remote`; a local update in the same Ready makes it
 * `local`). One event per CRDT per Ready, with what changed since the last one (crdt-change.ts:
 * the touched keys of a map or set, the new value of a counter or register), as of the Ready.
 */
export interface CrdtChangedEvent {
  readonly kind: 'crdt-changed';
  readonly name: string;
  readonly crdt: CrdtTypeName;
  readonly origin: 'local' | 'remote';
  readonly change: CrdtChange;
}

export type GossipEvent = MemberChangedEvent | MemberPhiEvent | CrdtChangedEvent;
