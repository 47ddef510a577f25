/**
 * Deliberate bugs in the gossip simulator's hosts, one per checker, to prove that each checker
 * bites (test/sim/gossip-sabotage.test.ts). Never set in a real sweep. The engine is never
 * changed: each bug lives in what the host does around it (what it feeds the engine, when it
 * sends, what it boots from, how it is configured), as the bug would in a faulty host, or in an
 * engine that behaved that way.
 *
 * - `never-refute`: the host strips every claim about the node itself from what it receives, so
 *   the node never learns it is suspected and never refutes (SWIM §4.2): a false suspicion
 *   becomes a false death (accuracy).
 * - `never-declare-dead`: suspicions never time out (suspicion timeouts beyond the run) and
 *   the host strips `dead` updates from what it receives: crashed members stay suspect for ever
 *   (detection, convergence).
 * - `forget-incarnation`: a restarted node boots from incarnation 0, as with storage that loses
 *   its writes; its new life announces incarnations its earlier life already used (incarnations).
 * - `send-before-durable`: the Ready's `messagesAfterWrite` leave before the incarnation write
 *   is durable; a crash inside the write makes the next life reuse the incarnation (incarnations,
 *   on seeds whose crashes land inside writes).
 * - `greedy-mesh`: nodes keep 3 times the mesh degrees the swarm's configuration says (mesh).
 * - `rogue-probe`: each period the host also pings a member it holds no link to (links).
 * - `drop-merges`: a data plane that drops what it is sent: every anti-entropy state and half of
 *   the pushed deltas are stripped before the engine sees them (CRDT convergence).
 * - `forget-crdts`: the disk loses the CRDT records at a crash (the incarnation survives). Once
 *   a bug (a restarted node minted its own dots again); since each life mints under a replica id
 *   of its own (src/core/gossip/gossip-node.ts) it must be harmless, and the sabotage test
 *   requires that it is: no lost update, convergence. `forget-incarnation` is what now makes a
 *   life mint its dots again.
 */
export type GossipSabotage =
  | 'never-refute'
  | 'never-declare-dead'
  | 'forget-incarnation'
  | 'send-before-durable'
  | 'greedy-mesh'
  | 'rogue-probe'
  | 'drop-merges'
  | 'forget-crdts';

export const gossipSabotages: readonly GossipSabotage[] = [
  'never-refute',
  'never-declare-dead',
  'forget-incarnation',
  'send-before-durable',
  'greedy-mesh',
  'rogue-probe',
  'drop-merges',
  'forget-crdts',
];
