/**
 * Protocol constants of the Raft core: the same on every node, because a value one node accepts
 * and another refuses would split a cluster (unlike the limits of `RaftConfig`, which bound one
 * node's own memory).
 */

/**
 * The highest term a node ever moves to. The wire codec refuses any message whose term exceeds
 * it (src/io/validate-raft.ts), so a hostile peer cannot send a term whose successor a node could
 * not encode (a heartbeat at 2^53 - 1 once left nodes unable to campaign, and after a restart
 * unable to boot: `term + 1` is no longer a safe integer). The core enforces it again (defence in
 * depth: a message above it is ignored and counted in `termsRefused`, and a node at it never
 * campaigns). No real cluster nears 2^48 elections: one a second would take nine million years.
 */
export const termMax = 2 ** 48;
