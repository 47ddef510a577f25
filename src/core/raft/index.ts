export { RaftNode, type ProposeAccepted, type RaftStatus, type ReadMode } from './raft-node.ts';
export type { RaftCounters } from './counters.ts';
export { termMax } from './limits.ts';
export { resolveRaftConfig, raftDefaults, type RaftConfig, type ResolvedRaftConfig } from './config.ts';
export { NotLeaderError, ProposalDroppedError, ReadDroppedError, ConfigError, type RaftError, type ProposalDroppedReason } from './errors.ts';
export type { Message, MessageType } from './messages.ts';
export { messageTypes } from './messages.ts';
export type { BootState, Entry, EntryKind, HardState, NodeId, ReadState, Ready, Role, SoftState } from './types.ts';
export { emptyHardState } from './types.ts';
