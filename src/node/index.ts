/**
 * `peerquorum/node`: peerquorum nodes in Node.js, each in a `worker_threads` Worker with a
 * crash-safe file log and WebSocket or WebRTC links (DESIGN.md §7b "Edge").
 */
export { createNode, type NodeBytesNode, type NodeKvNode } from './create-node.ts';
export type { NodeNode, NodeProcessTestHooks, NodeStopOptions, NodeStopReport } from './node-handle.ts';
export { handOverWaitMsDefault } from './node-handle.ts';
export { parseListen, type NodeCreateOptions, type NodeCustomMachine } from './node-options.ts';
export { NodeError } from '../client/node-error.ts';
export type { SignalingOptions } from '../client/links.ts';
export type { IceServer } from '../io/transport/node-webrtc-slot.ts';
export type { KvCommand, KvResult } from '../machines/kv.ts';
export type { NodeEvent, NodeEventType, NodeStatus, ReadConsistency, WebSocketTuning } from '../runtime/worker-protocol.ts';
export { errorCodes, isErrorCode, type ErrorCode, type TaggedError } from '../core/error-code.ts';
