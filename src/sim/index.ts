/**
 * peerquorum/sim: the deterministic simulator and its checkers (DESIGN.md §8). Public, so that
 * users can put the engine under faults in their own tests: run whole seeds with
 * `runSimulation`, or assemble their own harness from the pieces (scheduler, network, storage,
 * simulated nodes and clients) and feed the checkers.
 */
export { runSimulation, summarizeRun, nodeIds, tickUs, simulationDefaults } from './simulation.ts';
export type { SimulationOptions, SimulationResult, SimulationStats } from './simulation.ts';
export { Scheduler, type EventHandler } from './scheduler.ts';
export { sample, maxOf, describe, pick, pickWeighted, chance, shuffled, type Distribution } from './distributions.ts';
export { Network, type Cut, type NetworkFaults, type NetworkOptions, type NetworkStats, type TraceEvent, type TraceFate } from './network.ts';
export { MemoryStorage, type MemoryStorageOptions, type SimStorageWrite, type StorageStats, type StorageWrite } from './memory-storage.ts';
export { SimNode, type SimNodeOptions, type SimNodeStats, type RaftTuning, type Sabotage } from './sim-node.ts';
export { SimClient, type ClientWorkload, type SimClientOptions, type ClientStats, type ReadMode } from './client.ts';
export { drawFaultMix, describeFaultMix, type FaultMix, type FaultMixModes, type PartitionKind } from './fault-mix.ts';
export { Membership, type MembershipHost, type MembershipMix, type MembershipStats } from './membership.ts';
export { Nemesis, type NemesisStats } from './nemesis.ts';
export { RaftCheckers, type LogReader, type PendingLogWrite } from './checkers/raft-checkers.ts';
export { ElectionSafetyChecker } from './checkers/election-safety.ts';
export { LogMatchingChecker, findMismatch } from './checkers/log-matching.ts';
export { LeaderCompletenessChecker, type SnapshotPoint } from './checkers/leader-completeness.ts';
export { StateMachineSafetyChecker } from './checkers/state-machine-safety.ts';
export { checkAcknowledgedWrites, sessionRequestOf, requestKey, type AcknowledgedCommand, type RequestOf } from './checkers/acknowledged-writes.ts';
export { ExactlyOnceChecker } from './checkers/exactly-once.ts';
export { checkHistory, historyStatesPerKeyMax, type HistoryVerdict } from './checkers/linearizable-history.ts';
export type { SafetyProperty, Violation } from './checkers/violation.ts';
export * from './history.ts';
export * from './linearizability.ts';
export * from '../machines/kv.ts';
