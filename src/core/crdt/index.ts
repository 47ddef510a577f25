/**
 * The replicated data types without order (issue 12, "Replicated data without order"): causality
 * (version vectors, causal contexts), six delta-state CRDTs, one registry by type name, and
 * Merkle anti-entropy. Pure: no clock, no randomness, no I/O (DESIGN.md §1). The gossip engine and
 * the codec use them through this entry.
 */
export * from './limits.ts';
export { crdtRefusalReasons, type CrdtRefusal, type CrdtRefusalReason } from './refusal.ts';
export { compareScalars, type Scalar } from './scalar.ts';
export type { WireValue } from './wire-reader.ts';

export {
  compareVectors,
  decodeVector,
  emptyVector,
  encodeVector,
  mergeVectors,
  vectorCount,
  vectorLeq,
  vectorWith,
  type ReplicaId,
  type VectorOrder,
  type VersionVector,
} from './version-vector.ts';
export {
  contextHas,
  contextOf,
  contextWithDots,
  decodeContext,
  emptyContext,
  encodeContext,
  joinContexts,
  nextDot,
  type CausalContext,
  type Dot,
} from './causal-context.ts';
export type { Causal, DotFun, DotSet } from './dot-store.ts';

export { gCounterEmpty, gCounterIncrement, gCounterMerge, gCounterValue, type GCounter } from './g-counter.ts';
export { pnCounterDecrement, pnCounterEmpty, pnCounterIncrement, pnCounterMerge, pnCounterValue, type PnCounter } from './pn-counter.ts';
export { lwwEmpty, lwwMerge, lwwValue, lwwWrite, type LwwEntry, type LwwRegister } from './lww-register.ts';
export { mvEmpty, mvMerge, mvValue, mvWrite, type MvRegister } from './mv-register.ts';
export { orSetAdd, orSetClear, orSetEmpty, orSetHas, orSetMerge, orSetRemove, orSetValue, type OrSet } from './or-set.ts';
export {
  orMapApply,
  orMapEmpty,
  orMapGet,
  orMapMerge,
  orMapValue,
  type EmbeddedValue,
  type FieldOp,
  type OrMap,
  type OrMapEntry,
  type OrMapOp,
} from './or-map.ts';
export {
  crdtType,
  crdtTypeNames,
  crdtTypes,
  isCrdtTypeName,
  wireEquals,
  type CrdtStates,
  type CrdtType,
  type CrdtTypeName,
  type CrdtTypeOf,
  type CrdtValues,
} from './crdt-types.ts';

export { digestWire } from './merkle-hash.ts';
export { MerkleTree, merkleDepthDefault, merkleDepthMax, merkleFanout, nodesAtLevel } from './merkle.ts';
export {
  decodeMerkleMessage,
  encodeMerkleMessage,
  entriesPerResponseMax,
  leavesPerRequestMax,
  nodesPerRequestMax,
  type HashesRequest,
  type HashesResponse,
  type LeafEntry,
  type LeavesRequest,
  type LeavesResponse,
  type MerkleMessage,
  type MerkleRequest,
  type MerkleResponse,
} from './merkle-messages.ts';
export {
  answerHashes,
  answerLeaves,
  answerRequest,
  diffTrees,
  exchangeMessagesMax,
  startExchange,
  takeResponse,
  type ExchangeResult,
  type ExchangeStep,
} from './merkle-exchange.ts';
export { exchangeBytes, fullListingBytes, merkleMessageBytes, msgpackBytes, type ExchangeCost } from './merkle-cost.ts';
