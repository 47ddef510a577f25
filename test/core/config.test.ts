/**
 * What this proves about config validation: a good config resolves with the documented defaults
 * filled in, and every bad field or bad relation between fields is refused once, up front, with
 * a `ConfigError` (stable `name` and `code`) whose message names the field and the bad value, so
 * that the protocol code may rely on the numbers. Relations checked: the election timeout must
 * exceed the heartbeat interval (Raft §5.6), the lease drift must stay below the election
 * timeout, the voters must be distinct and include this node. `new RaftNode` validates too.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import { resolveRaftConfig, type RaftConfig } from '../../src/core/raft/config.ts';
import { ConfigError } from '../../src/core/raft/errors.ts';
import { RaftNode } from '../../src/core/raft/raft-node.ts';

function base(): RaftConfig {
  return { id: '1', voters: ['1', '2', '3'], prng: createPrng(1) };
}

function refusal(config: RaftConfig): ConfigError {
  try {
    resolveRaftConfig(config);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('a good config', () => {
  it('resolves with the defaults filled in', () => {
    const c = resolveRaftConfig(base());
    expect(c).toMatchObject({
      id: '1',
      voters: ['1', '2', '3'],
      electionTimeoutTicks: 10,
      heartbeatIntervalTicks: 1,
      preVote: true,
      checkQuorum: true,
      leaseDriftTicks: 2,
      applied: 0,
    });
  });

  it('keeps what the caller set over the defaults', () => {
    const c = resolveRaftConfig({ ...base(), electionTimeoutTicks: 20, heartbeatIntervalTicks: 5, preVote: false, leaseDriftTicks: 19 });
    expect(c).toMatchObject({ electionTimeoutTicks: 20, heartbeatIntervalTicks: 5, preVote: false, leaseDriftTicks: 19 });
  });

  it.each([
    ['a single-node cluster', { id: 'a', voters: ['a'] }],
    ['the smallest timeouts allowed', { electionTimeoutTicks: 2, heartbeatIntervalTicks: 1, leaseDriftTicks: 1 }],
    ['no lease drift', { leaseDriftTicks: 0 }],
    ['applied at zero', { applied: 0 }],
  ])('accepts %s', (_name, patch) => {
    expect(() => resolveRaftConfig({ ...base(), ...patch })).not.toThrow();
  });
});

describe('bad fields', () => {
  it('the error is a ConfigError with a stable name and code', () => {
    const e = refusal({ ...base(), electionTimeoutTicks: 0 });
    expect(e.name).toBe('ConfigError');
    expect(e.code).toBe('CONFIG');
  });

  it('an empty id', () => {
    expect(refusal({ ...base(), id: '' }).message).toMatch(/id must be a non-empty string/);
  });

  it('duplicate voters', () => {
    expect(refusal({ ...base(), voters: ['1', '2', '2'] }).message).toMatch(/distinct/);
  });

  it('voters that do not include this node', () => {
    const e = refusal({ ...base(), id: '4' });
    expect(e.message).toMatch(/include this node/);
    expect(e.message).toContain('(4)');
  });

  const positiveFields = [
    'electionTimeoutTicks',
    'heartbeatIntervalTicks',
    'maxEntriesPerAppend',
    'maxBytesPerAppend',
    'maxInflightAppends',
    'maxUncommittedEntries',
    'maxPendingReads',
    'maxCommandBytes',
  ] as const;
  const notPositive = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY];
  const rows = positiveFields.flatMap((field) => notPositive.map((value) => [field, value] as const));

  it.each(rows)('%s = %s', (field, value) => {
    // Keep the relations satisfied so that the field itself is what is refused.
    const patch: Partial<RaftConfig> =
      field === 'heartbeatIntervalTicks' ? { [field]: value, electionTimeoutTicks: 1000 } : { [field]: value };
    const e = refusal({ ...base(), ...patch });
    expect(e.message).toBe(`${field} must be a positive integer, got ${value}`);
  });

  it.each([-1, 1.5, Number.NaN])('applied = %s', (applied) => {
    expect(refusal({ ...base(), applied }).message).toBe(`applied must be >= 0, got ${applied}`);
  });

  it.each([-1, 0.5, Number.NaN])('leaseDriftTicks = %s', (leaseDriftTicks) => {
    expect(refusal({ ...base(), leaseDriftTicks }).message).toBe(`leaseDriftTicks must be >= 0, got ${leaseDriftTicks}`);
  });
});

describe('bad relations', () => {
  it.each<[number, number]>([
    [5, 5],
    [4, 5],
    [1, 1],
  ])('electionTimeoutTicks %i <= heartbeatIntervalTicks %i', (electionTimeoutTicks, heartbeatIntervalTicks) => {
    const e = refusal({ ...base(), electionTimeoutTicks, heartbeatIntervalTicks, leaseDriftTicks: 0 });
    expect(e.message).toBe(
      `electionTimeoutTicks (${electionTimeoutTicks}) must exceed heartbeatIntervalTicks (${heartbeatIntervalTicks})`,
    );
  });

  it.each<[number, number]>([
    [10, 10],
    [10, 11],
    [3, 5],
  ])('electionTimeoutTicks %i <= leaseDriftTicks %i', (electionTimeoutTicks, leaseDriftTicks) => {
    const e = refusal({ ...base(), electionTimeoutTicks, leaseDriftTicks });
    expect(e.message).toMatch(/leaseDriftTicks must be below electionTimeoutTicks/);
  });
});

describe('new RaftNode', () => {
  it('validates its config', () => {
    expect(() => new RaftNode({ ...base(), electionTimeoutTicks: 1 })).toThrow(ConfigError);
    expect(() => new RaftNode(base())).not.toThrow();
  });
});
