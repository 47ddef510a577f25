/**
 * Versioned configuration: compare-and-set on the version decides races (of two writers that
 * read the same version, exactly one wins, the other sees VERSION_MISMATCH with the current
 * version); versions of a key only grow, through deletes and rollbacks; the history keeps the
 * last configHistoryMax versions; a rollback is a new version with an old version's content and
 * a version no longer kept is refused; validators registered at construction refuse a bad
 * document with INVALID_CONFIG naming the validator, and a throwing validator refuses too;
 * every refusal changes nothing; snapshots round-trip.
 */
import { describe, expect, it } from 'vitest';
import { CompositeMachine } from '../../../src/machines/services/composite.ts';
import { ConfigPart, type ConfigOptions, type ConfigResult } from '../../../src/machines/services/config.ts';
import type { Value } from '../../../src/machines/services/value.ts';
import { Driver } from './harness.ts';

function setup(options: Partial<ConfigOptions> = {}): { d: Driver; config: ConfigPart; machine: CompositeMachine } {
  const config = new ConfigPart(options);
  const machine = new CompositeMachine({ config });
  return { d: new Driver(machine), config, machine };
}

const set = (key: string, value: Value, expectedVersion?: number): object => ({ op: 'set', key, value, ...(expectedVersion === undefined ? {} : { expectedVersion }) });

describe('config', () => {
  it('decides a compare-and-set race: one writer wins, the other learns the current version', () => {
    const { d, config } = setup();
    expect(d.run<ConfigResult>('config', set('db', { pool: 4 }, 0))).toMatchObject({ status: 'set', version: 1 });
    expect(d.run<ConfigResult>('config', set('db', { pool: 8 }, 0))).toMatchObject({ status: 'refused', code: 'VERSION_MISMATCH', current: 1 });
    // Both read version 1; the first to commit wins, the loser changes nothing.
    expect(d.run<ConfigResult>('config', set('db', { pool: 16 }, 1))).toMatchObject({ status: 'set', version: 2 });
    const before = d.machine.snapshot();
    const loser = d.run<ConfigResult>('config', set('db', { pool: 32 }, 1));
    expect(loser).toMatchObject({ code: 'VERSION_MISMATCH', current: 2 });
    expect(config.get('db')).toEqual({ key: 'db', version: 2, value: { pool: 16 } });
    expect(d.machine.snapshot()).toEqual(before);
    expect(d.lastChanges).toEqual([]);
  });

  it('keeps counting versions through a delete, and answers get, history and keys', () => {
    const { d, config } = setup();
    d.run('config', set('a', 1));
    d.run('config', { op: 'delete', key: 'a', expectedVersion: 1 });
    expect(config.get('a')).toEqual({ key: 'a', version: 2, value: null });
    expect(d.run<ConfigResult>('config', set('a', 3, 2))).toMatchObject({ version: 3 });
    d.run('config', set('b/x', 'y'));
    expect(config.query({ q: 'history', key: 'a' })).toMatchObject([{ version: 1, value: 1 }, { version: 2, value: null }, { version: 3, value: 3 }]);
    expect(config.query({ q: 'keys', prefix: 'b/' })).toEqual([{ key: 'b/x', version: 1, value: 'y' }]);
    expect(d.lastChanges).toEqual([{ service: 'config', kind: 'config', key: 'b/x', version: 1 }]);
  });

  it('rolls back as a new version with the old content; versions beyond the history are refused', () => {
    const { d, config } = setup({ configHistoryMax: 3 });
    for (let i = 1; i <= 4; i++) d.run('config', set('k', `v${i}`));
    expect(config.history('k').map((h) => h.version)).toEqual([2, 3, 4]);
    expect(d.run<ConfigResult>('config', { op: 'rollback', key: 'k', toVersion: 2, expectedVersion: 4 })).toMatchObject({ status: 'set', version: 5, value: 'v2' });
    expect(d.run<ConfigResult>('config', { op: 'rollback', key: 'k', toVersion: 1 })).toMatchObject({ code: 'UNKNOWN_VERSION', current: 5 });
    expect(d.run<ConfigResult>('config', { op: 'rollback', key: 'nope', toVersion: 1 })).toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('refuses a document a validator refuses (or throws on), naming the validator; others pass', () => {
    const { d, config } = setup({
      configValidators: [
        { name: 'pool-size', keyPrefix: 'db', validate: (_k, v) => (typeof v === 'object' && v !== null && 'pool' in v && typeof v.pool === 'number' && v.pool > 0 ? null : 'pool must be a positive number') },
        { name: 'thrower', keyPrefix: 'boom', validate: () => { throw new Error('cannot parse'); } },
      ],
    });
    expect(d.run<ConfigResult>('config', set('db', { pool: 0 }))).toMatchObject({ status: 'refused', code: 'INVALID_CONFIG', validator: 'pool-size' });
    expect(d.run<ConfigResult>('config', set('boom', 1))).toMatchObject({ code: 'INVALID_CONFIG', validator: 'thrower', message: 'Error: cannot parse' });
    expect(d.run<ConfigResult>('config', set('other', 'anything'))).toMatchObject({ status: 'set' });
    expect(config.get('db')).toBeNull();
    d.run('config', set('db', { pool: 2 }));
    d.run('config', set('db', { pool: 5 }));
    // A rollback is validated too (here it passes).
    expect(d.run<ConfigResult>('config', { op: 'rollback', key: 'db', toVersion: 1 })).toMatchObject({ version: 3, value: { pool: 2 } });
  });

  it('refuses new keys beyond configKeysMax', () => {
    const { d } = setup({ configKeysMax: 1 });
    d.run('config', set('a', 1));
    expect(d.run<ConfigResult>('config', set('b', 1))).toMatchObject({ code: 'KEYS_FULL' });
    expect(d.run<ConfigResult>('config', set('a', 2))).toMatchObject({ status: 'set', version: 2 });
  });

  it('round-trips through a snapshot', () => {
    const { d, machine } = setup();
    d.run('config', set('a', { deep: [1, 2.5, 'x', null, true] }));
    d.run('config', set('a', 'second'));
    const copy = setup();
    copy.machine.restore(machine.snapshot());
    expect(copy.config.history('a')).toEqual(d.machine.part<ConfigPart>('config')?.history('a'));
    expect(copy.machine.snapshot()).toEqual(machine.snapshot());
    copy.d.index = d.index;
    expect(copy.d.run('config', set('a', 3, 2))).toEqual(d.run('config', set('a', 3, 2)));
  });
});
