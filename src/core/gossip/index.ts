export { GossipNode, type GossipMemberStatus, type GossipStatus } from './gossip-node.ts';
export { gossipDefaults, resolveGossipConfig, type GossipConfig, type ResolvedGossipConfig } from './config.ts';
export type { GossipCounters } from './counters.ts';
export type { GossipEvent, MemberChangedEvent, MemberPhiEvent } from './events.ts';
export { incarnationJumpMax, incarnationMax, memberIdUnitsMax, seqMax, syncEntriesPerMessageMax, updatesPerMessageMax } from './limits.ts';
export {
  GossipRefusedError,
  type GossipInput,
  type GossipLocalInput,
  type GossipRefusedReason,
  type GossipStepAccepted,
  type GossipStepRefused,
} from './local-input.ts';
export { emptyGossipBoot, type GossipBoot, type SelfState } from './membership.ts';
export { gossipMessageTypes, memberUpdateKinds, type GossipMessage, type GossipMessageType, type MemberUpdate, type Piggyback, type SyncEntry } from './messages.ts';
export { phiOf, PhiAccrual } from './phi-accrual.ts';
export type { GossipReady } from './ready.ts';
export { suspicionTimeoutTicks } from './suspicion.ts';
export { memberStates, type MemberState, type NodeId } from './types.ts';
export { gossipRefusalCodes, readGossipMessage, type GossipRefusal, type GossipRefusalCode } from './validate-gossip.ts';
