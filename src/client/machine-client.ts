/**
 * The page side of a state machine: how commands become the bytes the log carries (encoded
 * once, here, DESIGN.md §4), how results come back, and what a read asks the worker.
 */
import { decodeKvResult, encodeKvCommand, type KvCommand, type KvResult } from '../machines/kv.ts';
import { NodeError } from './node-error.ts';

export interface MachineClient<Command, Result, Query, Answer> {
  encode(command: Command): Uint8Array;
  decode(result: Uint8Array): Result;
  query(query: Query): unknown;
  answer(answer: unknown): Answer;
}

/** The key-value machine: commands `{ op: 'write' | 'cas' | 'read', ... }`, reads by key. */
export const kvClient: MachineClient<KvCommand, KvResult, string, string | null> = {
  encode: encodeKvCommand,
  decode(bytes) {
    const decoded = decodeKvResult(bytes);
    if (!decoded.ok) throw new NodeError('CODEC', `a key-value result did not decode: ${decoded.error.message}`);
    return decoded.value;
  },
  query(key) {
    if (typeof key !== 'string') throw new NodeError('CONFIG', 'a key-value read takes a string key');
    return key;
  },
  answer(value) {
    return typeof value === 'string' ? value : null;
  },
};

/** A custom machine: commands and results are bytes; queries and answers are the module's. */
export const bytesClient: MachineClient<Uint8Array, Uint8Array, unknown, unknown> = {
  encode(command) {
    if (!(command instanceof Uint8Array)) throw new NodeError('CONFIG', 'a command of a custom machine is a Uint8Array');
    return command;
  },
  decode: (result) => result,
  query: (query) => query,
  answer: (answer) => answer,
};
