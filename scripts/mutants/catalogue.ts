/**
 * The mutation catalogue: classic Raft bugs, each planted by an exact textual edit of a copy of
 * `src/` (scripts/mutants/plant.ts), each named after the paper section or the MIT 6.5840 test
 * built around it. The simulator must catch every one (`npm run mutants`): a clean sweep is
 * worth something only if the same seeds fail on a buggy engine.
 *
 * An edit names the exact text it replaces, which must occur exactly once in its file: when the
 * code it targets moves, planting fails loudly ("cannot plant") instead of silently testing the
 * unmutated code. Each mutant also says which simulator modes it runs under, cycled seed by
 * seed (a snapshot bug needs `snapshots`, a membership bug `membership`).
 */

export interface MutantEdit {
  /** Path under the repository root. */
  readonly file: string;
  /** Exact text that must occur exactly once in the file. */
  readonly find: string;
  readonly replace: string;
}

export interface SimMode {
  readonly nodes: number;
  readonly snapshots?: boolean;
  readonly membership?: boolean;
  /** A stranger forging, replaying and garbling frames on the network (src/sim/intruder.ts). */
  readonly intruder?: boolean;
}

export interface Mutant {
  /** Kebab-case name, for `--only`. */
  readonly name: string;
  /** The bug in one sentence. */
  readonly bug: string;
  /** Where the literature describes it: paper section, dissertation section or 6.5840 test. */
  readonly source: string;
  readonly edits: readonly MutantEdit[];
  /** Simulator modes, cycled seed by seed (seed i runs modes[(i - start) % modes.length]). */
  readonly modes: readonly SimMode[];
}

const five: SimMode = { nodes: 5 };
const three: SimMode = { nodes: 3 };
const snapshots5: SimMode = { nodes: 5, snapshots: true };
const snapshots3: SimMode = { nodes: 3, snapshots: true };
const membership5: SimMode = { nodes: 5, membership: true };
const intruder5: SimMode = { nodes: 5, intruder: true };
const intruder3: SimMode = { nodes: 3, intruder: true };

export const mutants: readonly Mutant[] = [
  {
    name: 'figure8-commit-by-count',
    bug: 'a leader commits an entry of an earlier term by counting its replicas',
    source: 'Raft paper §5.4.2 and Figure 8; 6.5840 TestFigure8Unreliable3C',
    edits: [
      {
        file: 'src/core/raft/raft.ts',
        find: 'if (index <= this.log.committed || this.log.term(index) !== this.term) return false;',
        replace: 'if (index <= this.log.committed) return false;',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'vote-without-log-check',
    bug: 'a vote is granted without the election restriction (candidate log at least as up to date)',
    source: 'Raft paper §5.4.1; 6.5840 TestFailAgree3B, TestFigure8Unreliable3C',
    edits: [
      {
        file: 'src/core/raft/raft-node.ts',
        find: 'if (canVote && r.log.isUpToDate(m.lastIndex, m.lastTerm)) {',
        replace: 'if (canVote) {',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'vote-answered-before-persisted',
    bug: 'a granted vote leaves before the vote is on disk (a crash forgets it, and the node votes again in the term)',
    source: 'Raft paper Figure 2 ("updated on stable storage before responding to RPCs"); 6.5840 TestPersist13C',
    edits: [
      {
        file: 'src/core/raft/messages.ts',
        find: "return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' || m.type === 'timeout-now' || m.type === 'vote' || m.type === 'pre-vote';",
        replace: "return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' || m.type === 'timeout-now' || m.type === 'vote' || m.type === 'pre-vote' || m.type === 'vote-response';",
      },
    ],
    modes: [five, three],
  },
  {
    name: 'term-not-persisted',
    bug: 'a new term is not written unless the vote changes too (a restarted node goes back to an old term and follows a deposed leader)',
    source: 'Raft paper Figure 2 (currentTerm is persistent state); 6.5840 TestPersist23C',
    edits: [
      {
        file: 'src/core/raft/raft-node.ts',
        find: 'return this.r.term !== this.prevHardState.term || this.r.vote !== this.prevHardState.vote;',
        replace: 'return this.r.vote !== this.prevHardState.vote;',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'follower-truncates-matching',
    bug: 'a follower drops the entries after a delayed append even when they match the leader',
    source: 'Raft paper Figure 2, AppendEntries receiver step 3 ("if an existing entry conflicts"); 6.5840 TestFigure8Unreliable3C (reordered appends)',
    edits: [
      {
        file: 'src/core/raft/raft-log.ts',
        find: 'if (!this.matchTerm(e.index, e.term)) return e.index;',
        replace: 'return e.index;',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'heartbeat-commit-past-match',
    bug: "a follower's commit index moves past what it verified it holds: the leader's heartbeat carries its own commit index, not the follower's matched one, and the follower commits a stale suffix",
    source: 'Raft paper Figure 2, AppendEntries receiver step 5 (commit only what was verified); etcd-io/raft sendHeartbeat ("must not forward the follower\'s commit to an unmatched index")',
    edits: [
      {
        file: 'src/core/raft/raft.ts',
        find: 'const commit = Math.min(pr.match, this.log.committed);',
        replace: 'const commit = this.log.committed;',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'append-without-prev-term-check',
    bug: 'a follower accepts an append whose previous index it holds without checking that entry\'s term',
    source: 'Raft paper §5.3 and Figure 2, AppendEntries receiver step 2 (the log matching check); 6.5840 TestRejoin3B',
    edits: [
      {
        file: 'src/core/raft/raft-log.ts',
        find: 'if (!this.matchTerm(prevIndex, prevTerm)) return -1;',
        replace: 'if (this.term(prevIndex) === undefined && prevTerm >= 0) return -1;',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'match-from-leader-log',
    bug: "a leader takes any successful append answer to mean the follower holds its whole log, not the index the answer names",
    source: 'Raft paper Figure 2 (matchIndex from the entries the follower acknowledged); 6.5840 TestFigure8Unreliable3C (late answers)',
    edits: [
      {
        file: 'src/core/raft/step-leader.ts',
        find: 'const updated = pr.maybeUpdate(m.index);',
        replace: 'const updated = pr.maybeUpdate(Math.max(m.index, r.log.lastIndex()));',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'read-without-leadership-check',
    bug: 'a leader answers a ReadIndex read without hearing from a quorum after the read arrived',
    source: 'Raft dissertation §6.4, ReadIndex step 3; Jepsen etcd stale reads',
    edits: [
      {
        file: 'src/core/raft/read-only.ts',
        find: 'while (n < this.pending.length && (this.pending[n] as PendingRead).round <= this.quorumRound) n++;',
        replace: 'n = this.pending.length;',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'lease-read-after-expiry',
    bug: 'a leader serves lease reads after its lease ran out',
    source: 'Raft dissertation §6.4.1 (leases bounded by the election timeout and clock drift)',
    edits: [
      {
        file: 'src/core/raft/leader-requests.ts',
        find: 'return r.now < r.reads.quorumRoundTick + leaseTicks;',
        replace: 'return leaseTicks > 0;',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'deposed-leader-accepts-writes',
    bug: 'a node that stepped down and knows no leader still appends proposals to its log, in its own term',
    source: 'Raft paper §5.1 (only the leader accepts client requests), dissertation §6.2 (a deposed leader steps down)',
    edits: [
      {
        // Local proposals enter through `step` (step-local.ts) since the engine contract.
        file: 'src/core/raft/step-local.ts',
        find: "if (r.role === 'leader') {\n    const appended = proposeAsLeader(r, data);",
        replace: "if (r.role === 'leader' || (r.role === 'follower' && r.leader === null)) {\n    const appended = proposeAsLeader(r, data);",
      },
    ],
    modes: [five, three],
  },
  {
    name: 'snapshot-install-drops-newer-suffix',
    bug: 'installing a snapshot discards the entries after it even when the log holds its last entry',
    source: 'Raft dissertation §5.1, Figure 5.3 InstallSnapshot step 6 ("retain log entries following it"); 6.5840 TestSnapshotInstallUnreliable3D',
    edits: [
      {
        file: 'src/core/raft/raft-log.ts',
        find: 'if (this.matchTerm(meta.index, meta.term)) {',
        replace: 'if (this.matchTerm(meta.index, meta.term) && meta.index < 0) {',
      },
    ],
    modes: [snapshots5, snapshots3],
  },
  {
    name: 'learners-counted-in-commit-quorum',
    bug: 'the commit quorum is counted over every member of the configuration, learners included, not over its voters',
    source: 'Raft dissertation §4.2.1 (non-voting members do not count toward majorities) and §4.1 (the configuration that counts)',
    edits: [
      {
        file: 'src/core/raft/raft.ts',
        find: 'const index = committedIndex(this.voters, (id) => (id === this.id ? persisted : (this.progress.get(id)?.match ?? 0)));',
        replace: 'const index = committedIndex([...this.voters, ...this.learners], (id) => (id === this.id ? persisted : (this.progress.get(id)?.match ?? 0)));',
      },
    ],
    modes: [membership5],
  },
  {
    name: 'applied-twice-after-restart',
    bug: 'a snapshot claims an index one behind the state it holds, so a restart replays an entry the state already has',
    source: 'Raft dissertation §5.1 (the snapshot records the last index it covers); 6.5840 TestSnapshotAllCrash3D',
    edits: [
      {
        file: 'src/runtime/driver-ready-host.ts',
        find: 'const index = node.status().applied;',
        replace: 'const index = node.status().applied - 1;',
      },
    ],
    modes: [snapshots5, snapshots3],
  },
  {
    name: 'session-applies-retry-twice',
    bug: "the session layer applies a retried command again instead of answering from the session's cache",
    source: 'Raft dissertation §6.3 (client sessions); 6.5840 4A TestUnreliable (duplicate detection)',
    edits: [
      {
        file: 'src/machines/sessions.ts',
        find: 'if (command.seq === session.lastSeq) {',
        replace: 'if (command.seq === session.lastSeq && command.seq < 0) {',
      },
    ],
    modes: [five, three],
  },
  {
    name: 'candidate-counts-stale-vote',
    bug: 'a candidate counts a vote granted in an earlier term',
    source: 'Raft paper §5.1 and Figure 2 (drop responses of older terms); 6.5840 TestManyElections3A',
    edits: [
      {
        file: 'src/core/raft/raft-node.ts',
        find: '} else if (m.term < r.term) {',
        replace: "} else if (m.term < r.term && m.type !== 'vote-response') {",
      },
    ],
    modes: [five, three],
  },
  {
    name: 'replay-window-ignored',
    bug: 'a link accepts a frame whose sequence number it already accepted (its replay window answers, and is not heeded)',
    source: 'RFC 4303 §3.4.3 (anti-replay window); docs/protocol.md (link authentication)',
    edits: [
      {
        file: 'src/io/crypto/link-guard.ts',
        find: "if (check === 'fresh') {\n    window.accept(seq);",
        replace: "if (check === 'fresh' || check === 'replayed') {\n    if (check === 'fresh') window.accept(seq);",
      },
    ],
    modes: [intruder5, intruder3],
  },
  {
    name: 'link-tag-not-checked',
    bug: "a link lets a data frame through whatever its tag, so anyone who can reach a node speaks for its peers",
    source: 'Castro and Liskov, PBFT (OSDI 1999) §4: authenticators on every message; docs/protocol.md (link authentication)',
    edits: [
      {
        file: 'src/io/crypto/link-guard.ts',
        find: "if (!ok || p.epoch !== epoch) return 'bad-tag';",
        replace: "if (p.epoch !== epoch) return 'bad-tag';",
      },
    ],
    modes: [intruder5, intruder3],
  },
  {
    name: 'stale-hello-adopted',
    bug: "a link adopts the epoch of a replayed hello from a peer's earlier life, and with it a fresh replay window for that life's frames",
    source: 'docs/protocol.md (link authentication: boot epochs); the replay after restart of Aardvark §4 and TESTING.md (hostile peers)',
    edits: [
      {
        file: 'src/io/crypto/link-guard.ts',
        find: `      if (epoch < p.epoch) return { verdict: 'stale-hello', answer: false };
      if (epoch > p.epoch) {`,
        replace: `      if (epoch !== p.epoch) {`,
      },
    ],
    modes: [intruder5, intruder3],
  },
];
