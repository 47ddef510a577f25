/**
 * What a BFT host executes: a replicated state machine from src/machines behind PBFT's reply
 * cache (§4.1, exactly-once per client timestamp), checkpointed TOGETHER: the state a
 * checkpoint digests is the machine's snapshot AND the table of each client's last timestamp
 * and reply (PBFT §4.3 counts the reply cache as part of the state). That is what lets a state
 * transfer or a restart from a checkpoint answer, and refuse, a late duplicate exactly as a
 * replica that executed every batch would.
 *
 * The engine filters requests already executed before handing a batch out (ready.ts
 * `ExecutedBatch`); this table filters again, with state that travels with the checkpoint, so a
 * replica booted from a transferred checkpoint cannot execute twice what its engine's own table
 * (rebuilt at boot) no longer knows.
 *
 * A command that makes the machine throw is answered `rejected` with empty bytes on every
 * replica (the throw is a function of the state and the command, so deterministic). The machine
 * must not have changed state before it threw: that is the machine's contract here.
 */
import type { ExecutedBatch } from '../core/bft/ready.ts';
import type { ExecutionResult } from '../core/bft/local-input.ts';
import type { ClientId, ExecutionOutcome, SignedRequest } from '../core/bft/types.ts';
import { ByteReader, ByteWriter } from '../machines/bytes.ts';
import type { StateMachine } from '../machines/state-machine.ts';

/** A machine a BFT replica runs: a `StateMachine`, and optionally a read-only query for TOCS §5.1.3's unordered reads. */
export interface BftMachine extends StateMachine {
  /** Answer a read-only command without changing state; throw if `command` is not read-only. Absent: every read-only request is `rejected`. */
  query?(command: Uint8Array): Uint8Array;
}

export const bftExecutionStateVersion = 1;
/** Clients whose last reply is kept; the least recently served is forgotten past it (as the engine's `clientsMax`). */
export const executionClientsMaxDefault = 10_000;
const resultBytesMax = 16 * 1024 * 1024;
const clientIdBytesMax = 1024;

interface ClientRecord {
  readonly timestamp: number;
  readonly outcome: ExecutionOutcome;
  readonly result: Uint8Array;
}

const rejectedEmpty = new Uint8Array(0);

export class BftExecution {
  /** Insertion order is service order (alike on every replica: it changes only at execution). */
  private readonly clients = new Map<ClientId, ClientRecord>();

  constructor(
    readonly machine: BftMachine,
    private readonly clientsMax = executionClientsMaxDefault,
  ) {}

  /** Apply one executed batch; `applied` are the requests that reached the machine, `results` one per request of the batch. */
  apply(batch: ExecutedBatch): { readonly results: ExecutionResult[]; readonly applied: SignedRequest[] } {
    const results: ExecutionResult[] = [];
    const applied: SignedRequest[] = [];
    for (const r of batch.requests) {
      const last = this.clients.get(r.client);
      if (last !== undefined && r.timestamp <= last.timestamp) {
        const same = r.timestamp === last.timestamp;
        results.push({ client: r.client, timestamp: r.timestamp, outcome: same ? last.outcome : 'rejected', result: same ? last.result : rejectedEmpty });
        continue;
      }
      let outcome: ExecutionOutcome = 'ok';
      let result: Uint8Array;
      try {
        result = this.machine.apply(r.op, batch.seq);
      } catch {
        outcome = 'rejected';
        result = rejectedEmpty;
      }
      applied.push(r);
      this.remember(r.client, { timestamp: r.timestamp, outcome, result });
      results.push({ client: r.client, timestamp: r.timestamp, outcome, result });
    }
    return { results, applied };
  }

  private remember(client: ClientId, record: ClientRecord): void {
    this.clients.delete(client);
    this.clients.set(client, record);
    if (this.clients.size > this.clientsMax) this.clients.delete(this.clients.keys().next().value as ClientId);
  }

  /** A read-only request against the state executed so far (never changes it). */
  query(op: Uint8Array): { readonly outcome: ExecutionOutcome; readonly result: Uint8Array } {
    if (this.machine.query === undefined) return { outcome: 'rejected', result: rejectedEmpty };
    try {
      return { outcome: 'ok', result: this.machine.query(op) };
    } catch {
      return { outcome: 'rejected', result: rejectedEmpty };
    }
  }

  /** The exactly-once table, (client, last timestamp) in service order (ready.ts `stableClients`). */
  clientTimestamps(): [ClientId, number][] {
    return [...this.clients].map(([c, r]) => [c, r.timestamp]);
  }

  /** Each client's last reply, in service order: what the engine's reply cache boots with (ready.ts `BftBoot.stableReplies`). */
  replies(): ExecutionResult[] {
    return [...this.clients].map(([client, r]) => ({ client, timestamp: r.timestamp, outcome: r.outcome, result: r.result }));
  }

  /** The checkpointed state: version, the machine's snapshot, the client table in service order. */
  snapshot(): Uint8Array {
    const w = new ByteWriter(256);
    w.u8(bftExecutionStateVersion).bytes(this.machine.snapshot()).varuint(this.clients.size);
    for (const [client, r] of this.clients) w.string(client).varuint(r.timestamp).u8(r.outcome === 'ok' ? 1 : 0).bytes(r.result);
    return w.finish();
  }

  /** Replace the state with a checkpoint's (throws on bytes that do not decode: a digest-checked state never does). */
  restore(state: Uint8Array): void {
    const decoded = decodeExecutionState(state);
    this.machine.restore(decoded.machineState);
    this.clients.clear();
    for (const [c, rec] of decoded.clients) this.clients.set(c, rec);
  }
}

function decodeExecutionState(state: Uint8Array): { machineState: Uint8Array; clients: [ClientId, ClientRecord][] } {
  const r = new ByteReader(state);
  const version = r.u8();
  if (version !== bftExecutionStateVersion) throw new RangeError(`unknown execution state version ${version}`);
  const machineState = r.bytes(state.length);
  const count = r.varuint();
  const clients: [ClientId, ClientRecord][] = [];
  for (let i = 0; i < count; i++) {
    const client = r.string(clientIdBytesMax);
    const timestamp = r.varuint();
    const outcome: ExecutionOutcome = r.u8() === 1 ? 'ok' : 'rejected';
    clients.push([client, { timestamp, outcome, result: r.bytes(resultBytesMax) }]);
  }
  return { machineState, clients };
}

/** The exactly-once table inside an execution state, (client, last timestamp) in service order. */
export function executionStateClients(state: Uint8Array): [ClientId, number][] {
  return decodeExecutionState(state).clients.map(([c, r]) => [c, r.timestamp]);
}
