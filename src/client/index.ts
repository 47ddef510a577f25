/**
 * peerquorum for pages: `createNode` runs a node in a Web Worker and hands back a typed handle.
 * `installHarness` is the page half of the Playwright fixture (`peerquorum/playwright`).
 */
export { createNode, type BytesNode, type CreateNodeOptions, type CustomMachine, type CustomTransport, type KvNode, type NodeTestHooks, type PeerquorumNode } from './create-node.ts';
export type { Members } from './members.ts';
export type { BftByzantineMode, BftHandle, BftVoteResult, VoteHandler } from './bft-handle.ts';
export {
  crdtAliases,
  type CounterHandle,
  type CrdtHandle,
  type CrdtHandleOf,
  type CrdtHandles,
  type CrdtKind,
  type LwwRegisterHandle,
  type MapHandle,
  type MvRegisterHandle,
  type PnCounterHandle,
  type SetHandle,
} from './crdt-handles.ts';
export type { CrdtTypeName, CrdtValues } from '../core/crdt/crdt-types.ts';
export type { FieldOp, OrMapEntry, OrMapOp } from '../core/crdt/or-map.ts';
export type { Scalar } from '../core/crdt/scalar.ts';
export type { MemberState } from '../core/gossip/types.ts';
export { NodeError } from './node-error.ts';
export { ServiceRefusedError, type ServicesApi, type ServicesNode, type SubmittedTask, type AgentHandler, type ToolHandler, type WatchQuery } from './services-node.ts';
export type { ServicesSpec } from '../runtime/services-protocol.ts';
export type { HealthEvent, HealthOptions, HealthStatus } from '../runtime/node-health.ts';
export { defaultAlertRules, type AlertRule } from '../core/health/alert-rules.ts';
export type { ActiveAlert } from '../core/health/alert-evaluator.ts';
export type { HealthMetricName, HealthMetrics } from '../core/health/health-metrics.ts';
export type { LifecycleState } from '../core/health/lifecycle.ts';
export { errorCodes, isErrorCode, type ErrorCode, type TaggedError } from '../core/error-code.ts';
export type { Result } from '../core/result.ts';
export { registerLinks, type LinkContext, type Links, type LinksFactory, type SignalingOptions } from './links.ts';
export { aliveLockName } from './locks.ts';
export { storedIdKey } from './node-id.ts';
export { installHarness, type Harness, type HarnessResult, type HarnessStartOptions, type WriteReport } from './harness.ts';
export type { KvCommand, KvResult } from '../machines/kv.ts';
export type {
  BootSummary,
  CrdtChangedEvent,
  GossipNodeEvent,
  BftNodeStatus,
  GossipNodeStatus,
  GossipTuning,
  LinksWantedEvent,
  MachineDigest,
  MemberChangedEvent,
  MemberInfo,
  MemberPhiEvent,
  NodeProtocol,
  NodeEvent,
  NodeEventType,
  NodeMetrics,
  NodeStatus,
  RaftTuning,
  ReadConsistency,
} from '../runtime/worker-protocol.ts';
