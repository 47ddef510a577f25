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
 * - liveness: every request an honest client submitted completed by the deadline after the heal;
 * - no acknowledged write lost (TESTING.md: "no lost acknowledged write"): a write a client saw
 *   complete `ok` is held at the end by at least one honest replica that is up, and by every
 *   honest replica whose machine is past the seq where an honest replica first executed it,
 *   whatever crashes came between (the simulator may restart every replica at once: what was
 *   answered must then come back from disk alone; a replica that lost it reports a lower seq,
 *   hence the first rule).
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
  lostWrites: number;
  engineErrors: number;
}

export class BftCheckers {
  readonly counts: BftCounts = { agreement: 0, validity: 0, duplicates: 0, stalls: 0, lostWrites: 0, engineErrors: 0 };
  readonly details: string[] = [];
  private readonly bySeq = new Map<number, { replica: string; key: string }>();
  /** Client -> the op bytes (hex) it submitted (validity is checked by (client, op): the checker does not see the timestamps the client engine hands out). */
  private readonly submitted = new Map<string, Set<string>>();
  /** Client -> submission times of requests not yet completed (each completes once, in order). */
  private readonly outstanding = new Map<string, number[]>();
  /** Client -> the op bytes (hex) of its requests not yet completed, and whether each is a write. */
  private readonly inFlight = new Map<string, { readonly op: string; readonly write: boolean }[]>();
  /** Writes (op hex) a client saw complete `ok`. */
  private readonly acknowledged: string[] = [];
  /** Op hex -> the seq at which an honest replica first applied it. */
  private readonly firstSeq = new Map<string, number>();
  private static readonly detailsMax = 10;

  private note(line: string): void {
    if (this.details.length < BftCheckers.detailsMax) this.details.push(line);
  }

  submit(client: string, op: Uint8Array, atUs: number, write: boolean): void {
    let ops = this.submitted.get(client);
    if (ops === undefined) this.submitted.set(client, (ops = new Set()));
    ops.add(hexOf(op));
    let f = this.inFlight.get(client);
    if (f === undefined) this.inFlight.set(client, (f = []));
    f.push({ op: hexOf(op), write });
    let q = this.outstanding.get(client);
    if (q === undefined) this.outstanding.set(client, (q = []));
    q.push(atUs);
  }

  /** A request of `client` completed (its requests complete one at a time, in submission order). */
  completed(client: string, outcome: 'ok' | 'rejected'): void {
    this.outstanding.get(client)?.shift();
    const r = this.inFlight.get(client)?.shift();
    if (r?.write === true && outcome === 'ok') this.acknowledged.push(r.op);
  }

  /** At the end, the honest replicas that are up: each acknowledged write is held by one at least, and by each past its seq. */
  survived(replicas: readonly { readonly id: string; readonly executedSeq: number; readonly holds: (opHex: string) => boolean }[]): void {
    for (const op of this.acknowledged) {
      const seq = this.firstSeq.get(op);
      const where = seq === undefined ? 'no honest replica executed it' : `first executed at seq ${seq}`;
      if (!replicas.some((r) => r.holds(op))) {
        this.counts.lostWrites++;
        this.note(`lost write: no honest replica holds the acknowledged write ${op.slice(0, 48)} (${where})`);
        continue;
      }
      for (const r of replicas) {
        if ((seq !== undefined && seq > r.executedSeq) || r.holds(op)) continue;
        this.counts.lostWrites++;
        this.note(`lost write: ${r.id} executed to ${r.executedSeq} without the acknowledged write ${op.slice(0, 48)} (${where})`);
      }
    }
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
      const op = hexOf(r.op);
      if (!this.firstSeq.has(op)) this.firstSeq.set(op, seq);
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
