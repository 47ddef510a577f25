/**
 * What this proves: a stranger on the network cannot speak for a member. In live simulated
 * clusters (production driver, authenticated links, the seed's faults and clients, every
 * checker) an intruder without the secret forges frames under members' ids, replays frames it
 * captured and sends junk; a stranger WITH the secret (the fuzzer's insider) sends authenticated
 * bodies that are mutated or absurd Raft messages and a frame of empty maps. No forged, junk or
 * replayed frame reaches an engine, no frame of a member reaches one twice, nothing throws, and
 * the clusters stay safe, linearizable and live. The intruder's own accounting is checked too:
 * a frame it sent that got through is a 'link-authentication' violation of the run (the mutants
 * replay-window-ignored, link-tag-not-checked and stale-hello-adopted show it bites).
 */
import { describe, expect, it, vi } from 'vitest';
import { runFuzz } from '../../scripts/fuzz.ts';
import { emptyMapsBody } from '../../src/sim/hostile-frames.ts';
import { intruderMixDefault } from '../../src/sim/intruder.ts';
import { runSimulation } from '../../src/sim/simulation.ts';
import { decodeRaftBody } from '../../src/io/codec-raft.ts';

describe('the intruder', () => {
  it.each([1, 2, 3, 4])('seed %i: an outsider forging, replaying and garbling frames gets nothing through', (seed) => {
    const r = runSimulation({ seed, nodes: 5, intruder: intruderMixDefault });
    expect(r.safetyViolations).toEqual([]);
    expect(r.linearizability.ok).toBe(true);
    expect(r.livenessFailures).toEqual([]);
    const s = r.stats.intruder;
    expect(s).not.toBeNull();
    if (s === null) return;
    // It did send all three kinds, in numbers (400 frames per virtual second, 5 s of faults).
    expect(s.forgedSent).toBeGreaterThan(300);
    expect(s.replayedSent).toBeGreaterThan(300);
    expect(s.junkSent).toBeGreaterThan(200);
    expect(s.forgedAccepted).toBe(0);
    expect(s.replayedAccepted).toBe(0);
    expect(s.junkAccepted).toBe(0);
  }, 60_000);

  it('with the secret, a stranger reaches engines only with well-formed messages, which change nothing they must not', () => {
    // Without membership changes: seeds 1-12 of this mix are all clean. With them, see the
    // known failure below.
    const r = runSimulation({ seed: 7, nodes: 3, intruder: { framesPerS: 5000, insider: true, oversized: true } });
    expect(r.safetyViolations).toEqual([]);
    expect(r.linearizability.ok).toBe(true);
    expect(r.livenessFailures).toEqual([]);
    expect(r.stats.engineErrors).toBe(0);
    const s = r.stats.intruder;
    if (s === null) throw new Error('no intruder stats');
    expect(s.insiderSent).toBeGreaterThan(1000);
    // Most of its bodies are refused by the codec; the few valid ones reach the engines, which
    // refuse a non-member's (its counters), and the checkers above stay green.
    expect(s.insiderAccepted).toBeGreaterThan(0);
    expect(s.insiderAccepted).toBeLessThan(s.insiderSent / 2);
    expect(s.forgedAccepted + s.replayedAccepted + s.junkAccepted).toBe(0);
  }, 120_000);

  // KNOWN BUG, kept as the seed that shows it (it.fails: this test turns red once it is fixed,
  // and must then become a plain test). With membership changes on, a stranger that holds the
  // secret breaks state machine safety: seed 7 here (seed 10 already at 0b1be8b, where this test
  // ran seed 7 and passed by luck): "two different entries committed at index 1: term 6 and
  // term 3". It never joins (no join reaches admitJoin in this run). The suspected door: a
  // follower that knows no leader in its term accepts an append or snapshot of that term from
  // a node outside its configuration (membership-guard.ts lets a lagging voter learn of a
  // leader its configuration does not name yet; only a SECOND leader in a term is refused).
  it.fails('KNOWN BUG: with membership changes, a stranger with the secret breaks safety (seed 7)', () => {
    const r = runSimulation({ seed: 7, nodes: 3, membership: true, intruder: { framesPerS: 5000, insider: true, oversized: true } });
    expect(r.safetyViolations).toEqual([]);
  }, 120_000);

  it('a frame of empty maps is refused by the value count before anything is built from it', () => {
    const body = emptyMapsBody(1 << 20);
    const decoded = decodeRaftBody(body, { from: 'n1', to: 'n2' });
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.code).toBe('TOO_MANY_VALUES');
  });
});

describe('npm run fuzz (a small N; the benchmark runs a million)', () => {
  it('pushes N hostile frames through live clusters: no crash, nothing forged or replayed accepted, the JSON line last', () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const progress = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let status: number;
    try {
      status = runFuzz(['--frames', '30000', '--seed', '11']);
    } finally {
      log.mockRestore();
      progress.mockRestore();
    }
    const line = JSON.parse(lines.at(-1) ?? '{}') as { frames: number; accepted: number; rejected: number } & Record<string, number>;
    expect(status).toBe(0);
    expect(line.frames).toBeGreaterThanOrEqual(30000);
    expect(line).toMatchObject({ crashes: 0, forgedAccepted: 0, replayedAccepted: 0, notLive: 0 });
    expect(line.accepted + line.rejected).toBe(line.frames);
    expect(line.rejected).toBeGreaterThan(line.frames * 0.9);
    for (const kind of ['forged', 'replayed', 'junk', 'insider']) expect(line[kind], kind).toBeGreaterThan(1000);
  }, 180_000);
});
