/**
 * `npm run fuzz -- --frames N [--seed S] [--nodes 3|5|7] [--rate F]`
 *
 * The hostile-frame fuzzer: live simulated clusters (the production driver, authenticated links,
 * the seed's faults and clients, every checker) while an intruder sends N hostile frames in all
 * (src/sim/intruder.ts): forged under members' ids, replays of what it captured, junk (random,
 * truncated, bit-flipped, another cluster's, larger than a frame), and, from a stranger that
 * knows the cluster secret, authenticated bodies that are mutated Raft messages, absurd values
 * (term 2^53 − 1, lengths that lie, `__proto__` keys, deep nesting) and a frame of empty maps.
 * Runs go seed after seed from S (default 1) until N frames were sent.
 *
 * A crash is an exception escaping a run (a node's engine error is one too: the simulator
 * restarts the node, the fuzzer counts it) or a safety violation (a forged or replayed frame
 * that reached an engine is one, 'link-authentication'); a run whose cluster did not recover
 * after the faults is counted as not live. The last line is JSON:
 *
 *   {"frames":N,"crashes":0,"forgedAccepted":0,"replayedAccepted":0,"accepted":A,"rejected":R,"framesPerSec":F,...}
 *
 * `accepted` counts frames whose message reached an engine (the stranger's well-formed bodies,
 * which the engines refuse as a non-member's and count, and replayed copies of frames whose
 * original never got through: delivered once, as a relay would); `rejected` the rest, refused
 * by the envelope, the authentication, the replay window or the codec.
 *
 * Exit status 1 when crashes, forged or replayed frames accepted, or runs not live are above 0;
 * 2 on bad arguments. `npm run bench -- fuzz` runs a million frames.
 */
import { pathToFileURL } from 'node:url';
import type { IntruderMix, IntruderStats } from '../src/sim/intruder.ts';
import { runSimulation, simulationDefaults } from '../src/sim/simulation.ts';

interface Args {
  frames: number;
  seed: number;
  nodes: number;
  /** Hostile frames per second of virtual time. */
  rate: number;
}

const usage = 'usage: npm run fuzz -- --frames N [--seed S] [--nodes 3|5|7] [--rate FRAMES_PER_S]';

function parseArgs(argv: readonly string[]): Args | string {
  const args: Args = { frames: -1, seed: 1, nodes: simulationDefaults.nodes, rate: 20_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (!Number.isSafeInteger(value) || value < 1) return `${flag} needs a positive integer`;
    if (flag === '--frames') args.frames = value;
    else if (flag === '--seed') args.seed = value;
    else if (flag === '--nodes' && [3, 5, 7].includes(value)) args.nodes = value;
    else if (flag === '--rate') args.rate = value;
    else return `unknown or bad argument ${flag}`;
  }
  return args.frames < 1 ? '--frames is required' : args;
}

/** Run the fuzzer on `argv` (the flags above); the exit status. */
export function runFuzz(argv: readonly string[]): number {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    console.error(`fuzz: ${parsed}\n${usage}`);
    return 2;
  }
  const args = parsed;
  const mix: IntruderMix = { framesPerS: args.rate, insider: true, oversized: true };
  const totals: IntruderStats = { sent: 0, forgedSent: 0, replayedSent: 0, junkSent: 0, insiderSent: 0, insiderUnsendable: 0, forgedAccepted: 0, replayedAccepted: 0, replaysRelayed: 0, junkAccepted: 0, insiderAccepted: 0 };
  let crashes = 0;
  let violations = 0;
  let notLive = 0;
  let engineErrors = 0;
  let seeds = 0;
  const startedMs = performance.now();
  for (let seed = args.seed; totals.sent < args.frames; seed++) {
    seeds++;
    // The last run sends only what is left: its rate is scaled to the safety phase.
    const left = args.frames - totals.sent;
    const perRun = (args.rate * simulationDefaults.safetyPhaseUs) / 1_000_000;
    const framesPerS = left < perRun ? Math.max(1, Math.ceil((left * 1.1 * 1_000_000) / simulationDefaults.safetyPhaseUs)) : args.rate;
    let stats: IntruderStats | null = null;
    try {
      const r = runSimulation({ seed, nodes: args.nodes, intruder: { ...mix, framesPerS } });
      stats = r.stats.intruder;
      engineErrors += r.stats.engineErrors;
      if (r.stats.engineErrors > 0) crashes++;
      if (r.safetyViolations.length > 0 || !r.linearizability.ok) {
        crashes++;
        violations += r.safetyViolations.length;
        console.error(`fuzz: seed ${seed}: ${r.safetyViolations[0]?.property ?? 'linearizability'}: ${r.safetyViolations[0]?.detail ?? r.linearizability.failure?.detail ?? ''}`);
      }
      if (r.livenessFailures.length > 0) {
        notLive++;
        console.error(`fuzz: seed ${seed}: not live: ${r.livenessFailures[0]}`);
      }
    } catch (error) {
      crashes++;
      console.error(`fuzz: seed ${seed}: the run threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    if (stats === null) break; // a run that threw says nothing of what was sent: stop here
    for (const k of Object.keys(totals) as (keyof IntruderStats)[]) totals[k] += stats[k];
    console.error(`fuzz: seed ${seed}: ${stats.sent} frames (${totals.sent}/${args.frames})`);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  // Reached an engine: the stranger's well-formed bodies (which the engines then refuse as a
  // non-member's, counted) and replays that delivered a frame whose original never got through.
  const accepted = totals.insiderAccepted + totals.replaysRelayed + totals.forgedAccepted + totals.replayedAccepted + totals.junkAccepted;
  const line = {
    frames: totals.sent,
    crashes,
    forgedAccepted: totals.forgedAccepted,
    replayedAccepted: totals.replayedAccepted,
    accepted,
    rejected: totals.sent - accepted,
    framesPerSec: Math.round(totals.sent / seconds),
    junkAccepted: totals.junkAccepted,
    notLive,
    violations,
    engineErrors,
    seeds,
    forged: totals.forgedSent,
    replayed: totals.replayedSent,
    junk: totals.junkSent,
    insider: totals.insiderSent,
    insiderReachedEngine: totals.insiderAccepted,
    replaysRelayed: totals.replaysRelayed,
    seconds: Number(seconds.toFixed(1)),
  };
  console.log(JSON.stringify(line));
  return crashes + totals.forgedAccepted + totals.replayedAccepted + totals.junkAccepted + notLive > 0 || totals.sent < args.frames ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = runFuzz(process.argv.slice(2));
