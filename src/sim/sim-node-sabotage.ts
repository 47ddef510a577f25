/**
 * Deliberate bugs around the production driver, for the simulated node (sim-node.ts). They exist
 * to prove that the checkers catch what such bugs cause (tests of the simulator itself; never set
 * in a real sweep). The driver itself is never changed: each bug lives in a simulated part it
 * runs on, as the bug would in a faulty adapter. (Bugs inside the engine and the session layer
 * are the mutation harness's: scripts/mutants/.)
 *
 * - `send-before-durable`: the storage reports a write durable as soon as it BEGINS, so what the
 *   Ready contract holds back until then (votes, acknowledgements) leaves at once, promising
 *   state a crash then loses (sim-storage.ts);
 * - `local-reads`: the application serves `index` and `lease` reads from the local state machine
 *   at once, without asking ReadIndex (stale reads from followers and deposed leaders);
 * - `forget-vote`: a restarting node's storage has lost its vote (the node may vote twice);
 * - `no-tick-catch-up`: the node's clock stops while it is paused, so on waking the driver
 *   believes no time passed and catches up no ticks (its lease outlives real time)
 *   (sim-clock.ts).
 */
export type Sabotage = 'send-before-durable' | 'local-reads' | 'forget-vote' | 'no-tick-catch-up';
