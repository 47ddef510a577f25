/**
 * Deliberate bugs planted in the services simulator's node wiring (./services-sim-node.ts and
 * ./services-workload.ts), one per checker, to show that each checker bites (TESTING.md, "Does
 * the simulator have teeth?"). Each is a bug a real runtime could have:
 *
 *   rerun-after-restart    a node that restarts resumes the calls it had started before its
 *                          crash (as a runtime restoring its in-flight work from disk would):
 *                          a non-idempotent tool runs twice for one key.
 *   answer-before-commit   the leader answers its local caller with its handler's result as
 *                          soon as the handler returns, before `completed` commits: if it then
 *                          crashes, the new leader commits `indeterminate` and the caller holds
 *                          an outcome that is not the committed one. (The workload then
 *                          sends tool calls to the leader: only its local caller hears.)
 *   audit-evicts           an audit retention far too small (8 records): trails lose records.
 *   report-current-token   an agent reports its result under the token its replica shows now
 *                          rather than its assignment's: a holder whose lease expired completes
 *                          a task another agent holds.
 *   config-answer-local    a CAS is answered from the caller's replica (its version + 1) while
 *                          the proposal is still in flight: racing writers both "win".
 *   lock-answer-cached     a lock client keeps the token it was once granted and answers a new
 *                          lock call from that cache after its lease ran out.
 */
export const servicesSabotages = ['rerun-after-restart', 'answer-before-commit', 'audit-evicts', 'report-current-token', 'config-answer-local', 'lock-answer-cached'] as const;

export type ServicesSabotage = (typeof servicesSabotages)[number];
