/**
 * What a replicated state machine must be for peerquorum to run it: a deterministic function of
 * the committed commands, with snapshots so that logs can be compacted (DESIGN.md §1: machines
 * are pure). Commands and results are opaque bytes, encoded once by the client, so that any
 * machine can sit behind the same driver, the same session layer and the same wire.
 */
export interface StateMachine {
  /**
   * Apply one committed command, at log position `index` (a BFT sequence number on the BFT
   * engine), ordered in `term` (Raft term or BFT view; hosts that do not pass it leave it
   * undefined). Must be deterministic: replicas that apply the same commands in the same order
   * hold the same state and return the same results. Machines that fence by term (the tools
   * service, src/machines/services/tools.ts) use it to refuse a command claiming a later term.
   */
  apply(command: Uint8Array, index: number, term?: number): Uint8Array;
  /** The whole state as bytes; equal states must give equal bytes. */
  snapshot(): Uint8Array;
  /** Replace the state with a snapshot's. */
  restore(snapshot: Uint8Array): void;
}
