/** The BFT engine's public surface (PBFT with Aardvark's defences): see ready.ts for the host's contract. */
export { bftDefaults, primaryOf, resolveBftConfig, type BftConfig, type ResolvedBftConfig } from './config.ts';
export { bftRefusalCodes, createBftCounters, type BftCounters, type BftRefusalCode } from './counters.ts';
export type { CryptoRequest, CryptoResult, DigestPayload, SignedPayload, VerifyItem } from './proof-requests.ts';
export type { BftEvent, ViewChangeReason } from './events.ts';
export * from './limits.ts';
export {
  BftRefusedError,
  isBftLocalInput,
  type BftInput,
  type BftLocalInput,
  type BftRefusedReason,
  type BftStepAccepted,
  type ExecutionResult,
} from './local-input.ts';
export * from './messages.ts';
export { emptyBftBoot, type BftBoot, type BftPersist, type BftReady, type ExecutedBatch, type ReadRequest, type VoteQuestion } from './ready.ts';
export type * from './types.ts';
export type { BftClientConfig, ClientEvent, ClientInput, ClientReady, ClientStepAccepted } from './client-types.ts';
export { BftReplica, type BftStatus } from './replica.ts';
export { BftClient } from './client.ts';
export { readBftMessage, readReplyMessage, type BftRefusal } from './validate-bft.ts';
