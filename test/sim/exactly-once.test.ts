/**
 * What this proves about exactly-once application (client sessions, dissertation §6.3, under the
 * simulator):
 *   - the exactly-once checker reports a command run twice by the inner machine (on one replica,
 *     or at two indices of the one replicated sequence), replicas that disagree on whether the
 *     inner machine ran at an index, and an acknowledged command that never ran; and stays quiet
 *     on healthy observations, including replicas that restart and replay;
 *   - whole runs of the production driver under faults resubmit commands (a proposal forwarded to
 *     a leader that went, a retry after silence: the same session and seq each time), the
 *     session layer absorbs the copies that commit, and the checker finds every acknowledged
 *     command applied exactly once.
 * A session layer that lets a retried command through (the bug) is caught by the mutation
 * harness (`session-applies-retry-twice`, test/sim/mutants.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ExactlyOnceChecker } from '../../src/sim/checkers/exactly-once.ts';
import { RaftCheckers } from '../../src/sim/checkers/raft-checkers.ts';
import { runSimulation } from '../../src/sim/simulation.ts';

describe('exactly-once checker', () => {
  it('accepts one run per command, replays after restarts, and non-commands', () => {
    const c = new ExactlyOnceChecker();
    for (const node of ['n1', 'n2', 'n1']) {
      // n1 twice: it restarted and replayed the log from the start.
      c.observe(node, 1, null, 1);
      c.observe(node, 2, { session: 1, seq: 1 }, 2);
      c.observe(node, 3, null, 3); // the same command again: a duplicate the session layer absorbed
      c.observe(node, 4, { session: 1, seq: 2 }, 4);
    }
    c.checkAcknowledged([{ client: 0, session: 1, seq: 1, op: 'write', key: 'k', ackUs: 5 }], 4, 10);
    expect(c.violations).toEqual([]);
    expect(c.innerApplies).toBe(6);
    expect(c.ranIndex(1, 2)).toBe(4);
  });

  it('reports a command run twice, replicas that disagree, and an acknowledged command that never ran', () => {
    const c = new ExactlyOnceChecker();
    c.observe('n1', 2, { session: 1, seq: 1 }, 2);
    c.observe('n1', 3, { session: 1, seq: 1 }, 3); // the duplicate reached the inner machine
    c.observe('n2', 3, null, 4); // n2's session layer absorbed it
    c.checkAcknowledged(
      [
        { client: 0, session: 1, seq: 1, op: 'write', key: 'k', ackUs: 5 },
        { client: 1, session: 7, seq: 1, op: 'cas', key: 'k', ackUs: 6 },
      ],
      3,
      10,
    );
    expect(c.violations.map((v) => v.property)).toEqual(['exactly-once', 'exactly-once', 'exactly-once']);
    expect(c.violations.map((v) => v.detail)).toEqual([
      'command (session 1, seq 1) applied twice by the inner machine: at index 2 and again at 3 (seen on n1)',
      'at index 3 the inner machine ran nothing on n2 but (session:seq 1:1) on n1',
      'client 1 was answered for (session 7, seq 1: cas) at 6us, but no replica\'s inner machine ever ran it',
    ]);
  });

  it('counts among the safety violations of a run', () => {
    const c = new RaftCheckers();
    c.onInnerApplied('n1', 2, { session: 1, seq: 1 }, 1);
    c.onInnerApplied('n2', 5, { session: 1, seq: 1 }, 2);
    expect(c.violations().map((v) => v.property)).toEqual(['exactly-once']);
  });
});

describe('commands resubmitted by the driver under faults', () => {
  it('commit more than once and are applied once: duplicates absorbed, no violation, every acknowledged command ran', () => {
    let duplicates = 0;
    let acknowledgedRuns = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = runSimulation({ seed, nodes: 5 });
      expect(r.safetyViolations).toEqual([]);
      duplicates += r.stats.nodes.duplicateCommands;
      acknowledgedRuns += r.stats.innerApplies;
    }
    expect(duplicates).toBeGreaterThan(0);
    expect(acknowledgedRuns).toBeGreaterThan(0);
  });
});
