/**
 * The key-value machine (src/machines/kv.ts) as a BFT replica runs it in the simulator: reads
 * may be served unordered (`query`, TOCS §5.1.3: only a `read` command; anything else throws, so
 * a Byzantine client marking a write read-only gets `rejected`, never a change of state), and
 * every command on the key `poison` throws before touching the state, so that the simulator
 * checks TESTING.md's "a state machine that throws on one command: the same `rejected` outcome
 * on every replica".
 */
import { decodeKvCommand, encodeKvResult, KvMachine } from '../../machines/kv.ts';
import type { BftMachine } from '../../runtime/bft-execution.ts';

export const poisonKey = 'poison';

export class KvBftMachine extends KvMachine implements BftMachine {
  override apply(command: Uint8Array, index: number): Uint8Array {
    const decoded = decodeKvCommand(command);
    if (decoded.ok && decoded.value.key === poisonKey) throw new Error('poisoned command');
    return super.apply(command, index);
  }

  query(command: Uint8Array): Uint8Array {
    const decoded = decodeKvCommand(command);
    if (!decoded.ok || decoded.value.op !== 'read') throw new Error('not a read');
    return encodeKvResult({ op: 'read', value: this.read(decoded.value.key) });
  }
}
