/**
 * The key-value machine (src/machines/kv.ts) as a BFT replica runs it in the simulator: reads
 * may be served unordered (`query`, TOCS §5.1.3: only a `read` command; anything else throws, so
 * a Byzantine client marking a write read-only gets `rejected`, never a change of state), and
 * every command on the key `poison` throws before touching the state, so that the simulator
 * checks TESTING.md's "a state machine that throws on one command: the same `rejected` outcome
 * on every replica".
 *
 * For the exactly-once checker it also remembers, AS PART OF ITS STATE (snapshot and restore
 * carry it), every write command it applied: the workload makes each write unique (its value
 * names the client and timestamp), so a write applied twice to one machine state is a request
 * executed twice, whatever the host believed (`onDuplicate`).
 */
import { ByteReader, ByteWriter } from '../../machines/bytes.ts';
import { decodeKvCommand, encodeKvResult, KvMachine } from '../../machines/kv.ts';
import type { BftMachine } from '../../runtime/bft-execution.ts';

export const poisonKey = 'poison';

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

export class KvBftMachine extends KvMachine implements BftMachine {
  private readonly writes = new Set<string>();

  constructor(private readonly onDuplicate: (command: Uint8Array) => void = () => {}) {
    super();
  }

  override apply(command: Uint8Array, index: number): Uint8Array {
    const decoded = decodeKvCommand(command);
    if (decoded.ok && decoded.value.key === poisonKey) throw new Error('poisoned command');
    if (decoded.ok && decoded.value.op === 'write') {
      const key = hexOf(command);
      if (this.writes.has(key)) this.onDuplicate(command);
      this.writes.add(key);
    }
    return super.apply(command, index);
  }

  /** Whether the write `commandHex` (hex of its command bytes) was applied to this state (the lost-write checker asks). */
  holdsWrite(commandHex: string): boolean {
    return this.writes.has(commandHex);
  }

  query(command: Uint8Array): Uint8Array {
    const decoded = decodeKvCommand(command);
    if (!decoded.ok || decoded.value.op !== 'read') throw new Error('not a read');
    return encodeKvResult({ op: 'read', value: this.read(decoded.value.key) });
  }

  override snapshot(): Uint8Array {
    const w = new ByteWriter(256);
    w.bytes(super.snapshot()).varuint(this.writes.size);
    for (const k of [...this.writes].sort()) w.string(k);
    return w.finish();
  }

  override restore(snapshot: Uint8Array): void {
    const r = new ByteReader(snapshot);
    const kv = r.bytes(snapshot.length);
    const n = r.varuint();
    const writes: string[] = [];
    for (let i = 0; i < n; i++) writes.push(r.string(snapshot.length));
    super.restore(kv);
    this.writes.clear();
    for (const k of writes) this.writes.add(k);
  }
}
