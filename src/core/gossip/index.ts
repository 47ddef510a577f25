export { GossipNode, type GossipMemberStatus, type GossipStatus } from './gossip-node.ts';
export { gossipDefaults, resolveGossipConfig, type GossipConfig, type ResolvedGossipConfig } from './config.ts';
export type { GossipCounters } from './counters.ts';
export type { CrdtChangedEvent, GossipEvent, MemberChangedEvent, MemberPhiEvent } from './events.ts';
export type { CrdtOp } from './crdt-op.ts';
export { storeKey, type PersistedCrdt } from './crdt-store.ts';
export {
  crdtNameBytesMax,
  dataItemsPerMessageMax,
  dataValuesPerMessageMax,
  deltaTtlHopsMax,
  incarnationJumpMax,
  incarnationMax,
  memberIdUnitsMax,
  seqMax,
  stateValuesMax,
  syncEntriesPerMessageMax,
  updatesPerMessageMax,
  wantPerMessageMax,
} from './limits.ts';
export {
  GossipRefusedError,
  type GossipInput,
  type GossipLocalInput,
  type GossipRefusedReason,
  type GossipStepAccepted,
  type GossipStepRefused,
} from './local-input.ts';
export { emptyGossipBoot, type GossipBoot, type SelfState } from './membership.ts';
export {
  dataMessageTypes,
  gossipMessageTypes,
  isDataMessage,
  memberUpdateKinds,
  type CrdtMerkleMessage,
  type CrdtPushMessage,
  type CrdtRef,
  type CrdtStatesMessage,
  type DataMessage,
  type DeltaItem,
  type GossipMessage,
  type GossipMessageType,
  type MemberUpdate,
  type Piggyback,
  type StateItem,
  type SyncEntry,
} from './messages.ts';
export { phiOf, PhiAccrual } from './phi-accrual.ts';
export type { GossipReady } from './ready.ts';
export { suspicionTimeoutTicks } from './suspicion.ts';
export { memberStates, type MemberState, type NodeId } from './types.ts';
export { gossipRefusalCodes, readGossipMessage, type GossipRefusal, type GossipRefusalCode } from './validate-gossip.ts';
