/**
 * The BFT simulator's checkers, over what HONEST replicas and clients did (Byzantine replicas
 * may execute anything; PBFT promises nothing about them):
 *
 * - agreement (PBFT §4.5.1 safety): no two honest executions at one sequence number applied
 *   different requests (a replica re-executing a seq after a restart must apply the same ones);
 * - validity: every request an honest replica applied was submitted by a client (client,
 *   timestamp and the very op bytes);
 * - exactly-once (PBFT §4.1): no write applied twice to one machine state (kv-bft-machine.ts
 *   sees it: the state remembers its writes);
 * - liveness: every request an honest client submitted completed by the deadline after the heal.
 */
import type { SignedRequest } from '../../core/bft/types.ts';

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

export interface BftCounts {
  agreement: number;
  validity: number;
  duplicates: number;
  stalls: number;
  engineErrors: number;
}

export class BftCheckers {
  readonly counts: BftCounts = { agreement: 0, validity: 0, duplicates: 0, stalls: 0, engineErrors: 0 };
  readonly details: string[] = [];
  private readonly bySeq = new Map<number, { replica: string; key: string }>();
  /** Client -> the op bytes (hex) it submitted (validity is checked by (client, op): the checker does not see the timestamps the client engine hands out). */
  private readonly submitted = new Map<string, Set<string>>();
  /** Client -> submission times of requests not yet completed (each completes once, in order). */
  private readonly outstanding = new Map<string, number[]>();
  private static readonly detailsMax = 10;

  private note(line: string): void {
    if (this.details.length < BftCheckers.detailsMax) this.details.push(line);
  }

  submit(client: string, op: Uint8Array, atUs: number): void {
    let ops = this.submitted.get(client);
    if (ops === undefined) this.submitted.set(client, (ops = new Set()));
    ops.add(hexOf(op));
    let q = this.outstanding.get(client);
    if (q === undefined) this.outstanding.set(client, (q = []));
    q.push(atUs);
  }

  completed(client: string): void {
    this.outstanding.get(client)?.shift();
  }

  get pending(): number {
    let n = 0;
    for (const q of this.outstanding.values()) n += q.length;
    return n;
  }

  executed(replica: string, seq: number, applied: readonly SignedRequest[]): void {
    const key = applied.map((r) => `${r.client}/${r.timestamp}/${r.digest}`).join(',');
    const first = this.bySeq.get(seq);
    if (first === undefined) this.bySeq.set(seq, { replica, key });
    else if (first.key !== key) {
      this.counts.agreement++;
      this.note(`agreement: seq ${seq}: ${replica} applied [${key}] but ${first.replica} applied [${first.key}]`);
    }
    for (const r of applied) {
      if (this.submitted.get(r.client)?.has(hexOf(r.op)) !== true) {
        this.counts.validity++;
        this.note(`validity: ${replica} applied ${r.client}/${r.timestamp} at seq ${seq}, which no client submitted`);
      }
    }
  }

  duplicate(replica: string, command: Uint8Array): void {
    this.counts.duplicates++;
    this.note(`exactly-once: ${replica} applied the write ${hexOf(command).slice(0, 48)} twice to one state`);
  }

  engineError(node: string, error: unknown): void {
    this.counts.engineErrors++;
    this.note(`engine error at ${node}: ${error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 3).join(' | ') : String(error)}`);
  }

  /** At the end: every request still outstanding is a stall (one per seed counts, the oldest named). */
  finish(): void {
    const pending = this.pending;
    if (pending === 0) return;
    this.counts.stalls++;
    const oldest = [...this.outstanding].filter(([, q]) => q.length > 0).map(([c, q]) => [c, q[0] as number] as const).sort((a, b) => a[1] - b[1])[0];
    this.note(`liveness: ${pending} requests never completed (oldest of ${oldest?.[0]}, submitted at ${((oldest?.[1] ?? 0) / 1e6).toFixed(2)} s)`);
  }
}
