/**
 * What a BFT replica's storage holds, as the host's writes build it (ready.ts `BftPersist`), and
 * the `BftBoot` plus checkpointed state it restarts from. A storage adapter keeps one of these
 * (the simulator's disk does, in memory; a durable adapter would log the writes and fold them at
 * open), so every adapter folds writes the same way:
 *
 *   - the view only moves up;
 *   - accepted pre-prepares, one digest per (view, seq), the prepared certificate of the
 *     highest view per seq, and the batch committed and executed at each seq (ready.ts
 *     `CommittedBatch`: what a restart re-executes above the checkpoint), all dropped at or
 *     below a discarded seq;
 *   - the stable checkpoint moves only WITH the state it certifies (`BftWrite.checkpointState`):
 *     a replica that learned of a stable checkpoint it had not executed to (it is behind,
 *     `state-behind`) keeps booting from its older checkpoint and state, never from a
 *     certificate over a state it does not hold (that would execute later batches on the wrong
 *     state).
 */
import type { BftBoot, BftPersist, CommittedBatch } from '../core/bft/ready.ts';
import type { CheckpointCertificate, ClientId, PreparedCertificate } from '../core/bft/types.ts';

/** One durable write of a BFT host: the Ready's `persist`, and the checkpointed state at its `stableCheckpoint` when this replica holds it. */
export interface BftWrite {
  readonly persist: BftPersist;
  /** The execution state (bft-execution.ts `snapshot`) at `persist.stableCheckpoint.seq`; null when there is none or it is not held. */
  readonly checkpointState: Uint8Array | null;
}

export class BftDurable {
  view = 0;
  private readonly prePrepared = new Map<string, { view: number; seq: number; digest: string }>();
  private readonly prepared = new Map<number, PreparedCertificate>();
  private readonly committed = new Map<number, CommittedBatch>();
  stable: CheckpointCertificate | null = null;
  stableClients: readonly (readonly [ClientId, number])[] = [];
  /** The execution state at `stable` (null: the initial state). */
  state: Uint8Array | null = null;

  apply(w: BftWrite): void {
    const p = w.persist;
    if (p.view > this.view) this.view = p.view;
    for (const pp of p.prePrepared) this.prePrepared.set(`${pp.view}/${pp.seq}`, pp);
    for (const c of p.prepared) {
      const held = this.prepared.get(c.prePrepare.seq);
      if (held === undefined || held.prePrepare.view <= c.prePrepare.view) this.prepared.set(c.prePrepare.seq, c);
    }
    // `?? []`: a log written before committed batches were persisted has none.
    for (const c of p.committed ?? []) this.committed.set(c.header.seq, c);
    const cp = p.stableCheckpoint;
    if (cp !== null && w.checkpointState !== null && p.stableClients !== null && cp.seq > (this.stable?.seq ?? 0)) {
      this.stable = cp;
      this.stableClients = p.stableClients;
      this.state = w.checkpointState;
    }
    // Discard only below what we can boot from: a discard past our own checkpoint would lose
    // certificates we still need after a restart from the older one.
    const below = Math.min(p.discardBelowSeq ?? 0, this.stable?.seq ?? 0);
    if (below > 0) {
      for (const [k, pp] of this.prePrepared) if (pp.seq <= below) this.prePrepared.delete(k);
      for (const seq of this.prepared.keys()) if (seq <= below) this.prepared.delete(seq);
      for (const seq of this.committed.keys()) if (seq <= below) this.committed.delete(seq);
    }
  }

  boot(): BftBoot {
    const committed = [...this.committed.values()].sort((a, b) => a.header.seq - b.header.seq);
    return { view: this.view, prePrepared: [...this.prePrepared.values()], prepared: [...this.prepared.values()], committed, stableCheckpoint: this.stable, stableClients: this.stableClients };
  }

  /** Records held (a bound the tests and the simulator watch: GC must keep it within the window). */
  get records(): number {
    return this.prePrepared.size + this.prepared.size + this.committed.size;
  }

  clone(): BftDurable {
    const c = new BftDurable();
    c.view = this.view;
    for (const [k, v] of this.prePrepared) c.prePrepared.set(k, v);
    for (const [k, v] of this.prepared) c.prepared.set(k, v);
    for (const [k, v] of this.committed) c.committed.set(k, v);
    c.stable = this.stable;
    c.stableClients = this.stableClients;
    c.state = this.state;
    return c;
  }
}
