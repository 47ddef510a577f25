/** peerquorum's public entry. */
export * from './core/raft/index.ts';
export { createPrng, type Prng } from './core/prng.ts';
export { AssertionError } from './core/assert.ts';
export type { Result } from './core/result.ts';
export { errorCodes, isErrorCode, type ErrorCode, type TaggedError } from './core/error-code.ts';
