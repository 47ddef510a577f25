/**
 * Deliberate driver bugs for the simulated Raft node (sim-node.ts). They exist to prove that the
 * checkers catch what such bugs cause (tests of the simulator itself; never set in a real sweep),
 * so they live in one place, apart from the driver code that honours them.
 */

/**
 * - `send-before-durable`: a Ready's messages leave as soon as its write BEGINS (breaks the Ready
 *   contract: a vote or an acknowledgement can promise state a crash then loses);
 * - `local-reads`: `index` and `lease` reads are served from the local state machine at once,
 *   without asking ReadIndex (stale reads from followers and deposed leaders);
 * - `forget-vote`: a restarting node's storage has lost its vote (the node may vote twice);
 * - `no-tick-catch-up`: a paused node does not catch up the ticks it missed (its lease outlives
 *   real time);
 * - `bypass-sessions`: session commands are applied straight to the inner KV machine, without
 *   the session layer's duplicate detection (a retried command applies twice);
 */
export type Sabotage = 'send-before-durable' | 'local-reads' | 'forget-vote' | 'no-tick-catch-up' | 'bypass-sessions';
