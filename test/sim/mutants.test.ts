/**
 * What this proves: the simulator has teeth. Every bug of the mutation catalogue
 * (scripts/mutants/catalogue.ts: the classic Raft bugs of the paper, the dissertation and the
 * MIT 6.5840 tests) is planted in its own copy of the source and the simulator, run seed after
 * seed, fails on it; and the seed that caught it passes on the unmutated code (the control), so
 * the catch is the bug's doing. This is the fast subset CI runs: each mutant only until its first
 * catching seed, at most `seedsMax` seeds and `budgetSPerMutant` seconds each. A change that
 * blunts the nemesis or a checker fails here. The full sweep runs on demand:
 * `npm run mutants -- --seeds 1000` (add `--rate` for how many seeds catch each).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mutants } from '../../scripts/mutants/catalogue.ts';
import { formatResult, runHarness, type HarnessSummary } from '../../scripts/mutants/harness.ts';

const seedsMax = 1000;
const budgetSPerMutant = 150;

describe('the simulator catches every planted Raft bug', () => {
  let summary: HarnessSummary;
  beforeAll(async () => {
    summary = await runHarness({ seeds: seedsMax, budgetMsPerMutant: budgetSPerMutant * 1000 });
  }, 15 * 60_000);

  it('the catalogue holds at least twelve mutants, each with its source', () => {
    expect(mutants.length).toBeGreaterThanOrEqual(12);
    for (const m of mutants) {
      expect(m.source.length, m.name).toBeGreaterThan(10);
      expect(m.edits.length, m.name).toBeGreaterThan(0);
    }
    expect(new Set(mutants.map((m) => m.name)).size).toBe(mutants.length);
  });

  it.each(mutants.map((m) => m.name))('%s is planted and caught, and its catching seed passes unmutated', (name) => {
    const r = summary.results.find((x) => x.mutant.name === name);
    expect(r, name).toBeDefined();
    const line = r === undefined ? '' : formatResult(r);
    expect(r?.verdict.kind, line).toBe('caught');
    if (r?.verdict.kind === 'caught') expect(r.verdict.controlClean, line).toBe(true);
  });

  it('ends with the summary line', () => {
    expect(summary.line).toBe(`mutants: ${mutants.length} planted, ${mutants.length} caught, 0 survived`);
  });
});
