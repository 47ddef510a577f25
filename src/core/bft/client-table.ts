/**
 * Exactly-once per client timestamp (PBFT §4.1): for each client, the timestamp of its last
 * executed request and the reply to it. A request is executed only if its timestamp is above the
 * client's last; a retry of the last one is answered from the cache. The table changes only at
 * execution, in sequence order, so it is the same on every replica that executed the same
 * batches; bounded by `clientsMax`, forgetting the client served longest ago (alike everywhere,
 * for the same reason: a forgotten client's old timestamps would be executed again, so
 * `clientsMax` must exceed the clients of a deployment).
 */
import type { ExecutionOutcome } from './types.ts';

export interface ClientRecord {
  /** The last timestamp executed (ordered), whether or not its result is back from the host yet. */
  timestamp: number;
  /** The reply to it, once the host answered; null meanwhile. */
  reply: { readonly view: number; readonly outcome: ExecutionOutcome; readonly result: Uint8Array } | null;
}

export class ClientTable {
  /** Insertion order is service order: a client served again moves to the end. */
  private readonly records = new Map<string, ClientRecord>();

  constructor(private readonly clientsMax: number) {}

  get(client: string): ClientRecord | undefined {
    return this.records.get(client);
  }

  lastTimestamp(client: string): number {
    return this.records.get(client)?.timestamp ?? 0;
  }

  /** A request of `client` at `timestamp` is ordered for execution (its reply comes later). */
  executing(client: string, timestamp: number): void {
    this.records.delete(client);
    this.records.set(client, { timestamp, reply: null });
    if (this.records.size > this.clientsMax) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
    }
  }

  /** The host's result for the request executed at `timestamp`; ignored if a later one was ordered meanwhile. */
  replied(client: string, timestamp: number, reply: NonNullable<ClientRecord['reply']>): void {
    const r = this.records.get(client);
    if (r !== undefined && r.timestamp === timestamp) r.reply = reply;
  }

  /** Every client's last executed timestamp, in service order (what a checkpoint's table holds). */
  timestamps(): (readonly [string, number])[] {
    return [...this.records].map(([c, r]) => [c, r.timestamp] as const);
  }

  get size(): number {
    return this.records.size;
  }
}
