/**
 * `npm run sim -- [--protocol raft|gossip|bft] --seeds N [--start S] [--nodes 3|5|7] [--membership] [--snapshots] [--intruder] [--history FILE]`
 *
 * `--services` runs the coordination services' simulator instead (scripts/sim-services.ts),
 * `--protocol gossip` the gossip simulator (scripts/sim-gossip.ts: its own flags and
 * summary line), `--protocol bft` the Byzantine one (scripts/sim-bft.ts); `raft`, the default,
 * runs what follows.
 *
 * Runs N simulator seeds from S (default 1) on a cluster of K nodes (default 5). `--snapshots`
 * makes nodes snapshot and compact every few dozen entries and send snapshots in small chunks;
 * `--membership` adds and promotes learners and removes members (the leader too) under the
 * faults; both may be combined (src/sim/simulation.ts, MODES). Every failing seed prints what
 * failed and a line to reproduce it (with the flags used); before the summary, a line of totals
 * tells how often the modes' paths ran (snapshots installed from leaders, promotions, removals).
 * The LAST line is always the summary
 *
 *   sim: N seeds, V safety violations, L linearizability failures, U liveness failures
 *
 * where each count is the number of seeds that failed in that way; with `--intruder` (a stranger
 * without the cluster secret forging, replaying and garbling frames during the faults,
 * src/sim/intruder.ts) it goes on `, F forged frames accepted, R replayed frames accepted`, the
 * frames of each kind whose message reached an engine. Exit status 1 when any count
 * is above 0, 2 on bad arguments. `--history FILE` (one seed only) writes that seed's client
 * history as JSON lines (src/sim/history.ts), for outside checkers. Progress goes to stderr
 * every 100 seeds.
 */
import { writeFileSync } from 'node:fs';
import { encodeHistory } from '../src/sim/history.ts';
import { runSimulation, simulationDefaults, summarizeRun, type SimulationResult } from '../src/sim/simulation.ts';
import { intruderMixDefault } from '../src/sim/intruder.ts';
import { runGossipCli } from './sim-gossip.ts';
import { runBftCli } from './sim-bft.ts';
import { runServicesCli } from './sim-services.ts';

interface Args {
  seeds: number;
  start: number;
  nodes: number;
  history: string | null;
  membership: boolean;
  snapshots: boolean;
  intruder: boolean;
}

const usage = 'usage: npm run sim -- [--protocol raft|gossip] --seeds N [--start S] [--nodes 3|5|7] [--membership] [--snapshots] [--intruder] [--history FILE]';

class UsageError extends Error {}

function parseIntArg(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be an integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seeds: -1, start: 1, nodes: simulationDefaults.nodes, history: null, membership: false, snapshots: false, intruder: false };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (seen.has(flag)) throw new UsageError(`${flag} given twice`);
    seen.add(flag);
    switch (flag) {
      case '--seeds':
        args.seeds = parseIntArg(flag, value, 1);
        i++;
        break;
      case '--start':
        args.start = parseIntArg(flag, value, 0);
        i++;
        break;
      case '--nodes':
        args.nodes = parseIntArg(flag, value, 1);
        if (![3, 5, 7].includes(args.nodes)) throw new UsageError(`--nodes must be 3, 5 or 7, got ${args.nodes}`);
        i++;
        break;
      case '--history':
        if (value === undefined || value.startsWith('--') || value === '') throw new UsageError('--history needs a file name');
        args.history = value;
        i++;
        break;
      case '--membership':
        args.membership = true;
        break;
      case '--snapshots':
        args.snapshots = true;
        break;
      case '--intruder':
        args.intruder = true;
        break;
      case '--help':
      case '-h':
        console.log(usage);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
    }
  }
  if (args.seeds < 0) throw new UsageError('--seeds is required');
  if (args.history !== null && args.seeds !== 1) throw new UsageError('--history works with --seeds 1 only');
  if (!Number.isSafeInteger(args.start + args.seeds)) throw new UsageError('--start + --seeds is too large');
  return args;
}

function reproduce(r: SimulationResult): string {
  const nodes = r.nodes === simulationDefaults.nodes ? '' : ` --nodes ${r.nodes}`;
  const modes = `${r.membership ? ' --membership' : ''}${r.snapshots ? ' --snapshots' : ''}${r.stats.intruder !== null ? ' --intruder' : ''}`;
  return `reproduce: npm run sim -- --seeds 1 --start ${r.seed}${nodes}${modes}`;
}

function reportFailure(r: SimulationResult): void {
  console.log(`FAIL SEED=${r.seed} ${summarizeRun(r)}`);
  for (const v of r.safetyViolations) console.log(`  safety: ${v.property} at ${v.timeUs}us: ${v.detail}`);
  if (!r.linearizability.ok) {
    const f = r.linearizability.failure;
    console.log(`  linearizability: not linearizable${f === undefined ? '' : ` on key ${JSON.stringify(f.key)}: ${f.detail}`}`);
  }
  for (const l of r.livenessFailures) console.log(`  liveness: ${l}`);
  console.log(`  faults: ${r.faultMix}`);
  console.log(reproduce(r));
}

function main(): number {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`sim: ${error.message}\n${usage}`);
    return 2;
  }
  let safety = 0;
  let linearizability = 0;
  let liveness = 0;
  let undecided = 0;
  const intruder = { sent: 0, forged: 0, replayed: 0, junk: 0, forgedAccepted: 0, replayedAccepted: 0, junkAccepted: 0 };
  const aimed = { leadersStruck: 0, staleLeaderTraps: 0, figure8Plays: 0, figure8Strikes: 0, splitElections: 0 };
  const totals = { snapshotsTaken: 0, snapshotsInstalled: 0, restoresUnverified: 0, learnersAdded: 0, promotions: 0, automaticPromotions: 0, removals: 0, automaticRemovals: 0, leaderRemovals: 0, duplicates: 0, expired: 0, retries: 0 };
  const startedMs = performance.now();
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.start + i;
    const r = runSimulation({ seed, nodes: args.nodes, membership: args.membership, snapshots: args.snapshots, ...(args.intruder ? { intruder: intruderMixDefault } : {}) });
    const is = r.stats.intruder;
    if (is !== null) {
      intruder.sent += is.sent;
      intruder.forged += is.forgedSent;
      intruder.replayed += is.replayedSent;
      intruder.junk += is.junkSent;
      intruder.forgedAccepted += is.forgedAccepted;
      intruder.replayedAccepted += is.replayedAccepted;
      intruder.junkAccepted += is.junkAccepted;
    }
    const s = r.stats;
    totals.snapshotsTaken += s.nodes.snapshotsTaken;
    totals.snapshotsInstalled += s.nodes.snapshotsInstalled;
    totals.restoresUnverified += s.restoresUnverified;
    totals.learnersAdded += s.membership.learnersAdded;
    totals.promotions += s.membership.promotions;
    totals.automaticPromotions += s.membership.automaticPromotions;
    totals.removals += s.membership.removals;
    totals.automaticRemovals += s.membership.automaticRemovals;
    totals.leaderRemovals += s.membership.leaderRemovals;
    totals.duplicates += s.nodes.duplicateCommands;
    totals.expired += s.clientExpired;
    totals.retries += s.clientUnknown;
    for (const k of Object.keys(aimed) as (keyof typeof aimed)[]) aimed[k] += s.aimed[k];
    if (r.safetyViolations.length > 0) safety++;
    if (!r.linearizability.ok) linearizability++;
    if (r.livenessFailures.length > 0) liveness++;
    if (r.linearizability.undecidedKeys.length > 0) {
      undecided++;
      console.log(`note: seed ${seed}: linearizability undecided (search budget) on keys ${r.linearizability.undecidedKeys.join(', ')}`);
    }
    if (!r.ok) reportFailure(r);
    else if (args.seeds === 1) console.log(summarizeRun(r));
    if (args.history !== null) {
      writeFileSync(args.history, encodeHistory(r.history));
      console.log(`history: ${r.history.length} operations written to ${args.history}`);
    }
    if ((i + 1) % 100 === 0 && i + 1 < args.seeds) console.error(`sim: ${i + 1}/${args.seeds} seeds...`);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const t = totals;
  const parts = [
    `clients: ${t.retries} outcomes unknown; sessions: ${t.duplicates} duplicate commands absorbed, ${t.expired} expired`,
    `aimed faults: ${aimed.leadersStruck} new leaders struck, ${aimed.staleLeaderTraps} stale-read traps, ${aimed.figure8Plays} Figure 8 plays (${aimed.figure8Strikes} to the strike), ${aimed.splitElections} split elections`,
  ];
  if (args.snapshots) {
    parts.push(
      `snapshots: ${t.snapshotsTaken} taken, ${t.snapshotsInstalled} installed from leaders` +
        `${t.restoresUnverified > 0 ? ` (${t.restoresUnverified} restores unverified)` : ''}`,
    );
  }
  if (args.membership) {
    parts.push(
      `membership: ${t.learnersAdded} learners added, ${t.promotions} promotions (${t.automaticPromotions} automatic), ` +
        `${t.removals} removals (${t.automaticRemovals} automatic, ${t.leaderRemovals} of the leader)`,
    );
  }
  if (args.intruder) {
    parts.push(
      `intruder: ${intruder.sent} frames sent (${intruder.forged} forged, ${intruder.replayed} replayed, ${intruder.junk} junk); ` +
        `reached an engine: ${intruder.forgedAccepted} forged, ${intruder.replayedAccepted} replayed, ${intruder.junkAccepted} junk`,
    );
  }
  console.log(`sim: totals: ${parts.join('; ')}`);
  console.log(
    `sim: ${(args.seeds / seconds).toFixed(1)} seeds/s (${seconds.toFixed(1)} s)${undecided > 0 ? `; ${undecided} seeds with undecided keys` : ''}`,
  );
  const intruderCounts = args.intruder ? `, ${intruder.forgedAccepted} forged frames accepted, ${intruder.replayedAccepted} replayed frames accepted` : '';
  console.log(`sim: ${args.seeds} seeds, ${safety} safety violations, ${linearizability} linearizability failures, ${liveness} liveness failures${intruderCounts}`);
  return safety + linearizability + liveness + intruder.forgedAccepted + intruder.replayedAccepted + intruder.junkAccepted > 0 ? 1 : 0;
}

/** `--protocol raft|gossip|bft` (anywhere in the arguments), and the arguments without it. */
function protocolOf(argv: readonly string[]): { protocol: string; rest: string[] } {
  const i = argv.indexOf('--protocol');
  if (i < 0) return { protocol: 'raft', rest: [...argv] };
  return { protocol: argv[i + 1] ?? '', rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
}

const { protocol, rest } = protocolOf(process.argv.slice(2));
if (rest.includes('--services')) {
  // The coordination services on Raft (scripts/sim-services.ts: its own flags and summary line).
  if (protocol === 'raft') {
    // With --jobs the services sweep runs in child processes and answers a promise.
    void Promise.resolve(runServicesCli(rest.filter((a) => a !== '--services'))).then((code) => {
      process.exitCode = code;
    });
  } else process.exitCode = 2;
  if (protocol !== 'raft') console.error('sim: --services runs on Raft (no --protocol)');
} else if (protocol === 'gossip') {
  process.exitCode = runGossipCli(rest);
} else if (protocol === 'bft') {
  process.exitCode = runBftCli(rest);
} else if (protocol === 'raft') {
  process.argv.splice(2, process.argv.length - 2, ...rest);
  process.exitCode = main();
} else {
  console.error(`sim: --protocol must be raft, gossip or bft, got ${JSON.stringify(protocol)}\n${usage}`);
  process.exitCode = 2;
}
