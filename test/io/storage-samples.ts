/**
 * Shared by the storage adapter tests (memory-storage.test.ts, indexeddb-storage.test.ts): short
 * builders for hard states, entries and writes, a configuration, and a look at whether a promise
 * has settled.
 */
import type { Entry, HardState } from '../../src/core/raft/types.ts';
import { emptyWrite, type StorageWrite } from '../../src/io/storage/storage.ts';

export const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });
export const entry = (index: number, term: number): Entry => ({ index, term, kind: 'normal', data: Uint8Array.of(index, term) });
export const write = (parts: Partial<StorageWrite>): StorageWrite => ({ ...emptyWrite, ...parts });
export const config = { voters: ['n1', 'n2', 'n3'], learners: [] };

/** 'pending' when `p` has not settled within 20 ms. */
export function promiseState(p: Promise<unknown>): Promise<'pending' | 'settled'> {
  return Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), 20))]);
}
