/**
 * Versioned configuration (issue 14 item 3): per key, a document (any value) with a version
 * that grows by one with every change, compare-and-set on that version, the last
 * `configHistoryMax` versions, rollback (a NEW version with an old version's content, so the
 * history only ever grows forward and a CAS on the version stays meaningful), and validation
 * hooks refusing a bad document with a typed error.
 *
 * Validators are functions registered by name when the machine is CONSTRUCTED (the same code on
 * every replica, never shipped in a command), each for a key prefix. They must be deterministic
 * (no clock, no randomness): replicas must refuse alike. A validator that throws refuses too.
 *
 * A deleted key keeps its version (its value is null), so that a key deleted and created again
 * goes on counting: versions of one key form one linearizable history.
 *
 * Commands: set {key, value, expectedVersion?}, delete {key, expectedVersion?},
 * rollback {key, toVersion, expectedVersion?} (expectedVersion 0: the key must not exist yet).
 * Queries: get {key}, history {key}, keys {prefix?, limit?}.
 */
import { assert } from '../../core/assert.ts';
import { Fields, MalformedCommandError, opOf } from './fields.ts';
import type { ApplyContext } from './part.ts';
import { refuse, ValuePart, type Refusal } from './value-part.ts';
import type { Value } from './value.ts';

export const configKeyCharsMax = 256;
const intMax = Number.MAX_SAFE_INTEGER;

export interface ConfigValidator {
  readonly name: string;
  /** Runs for keys starting with this ('' for every key). */
  readonly keyPrefix: string;
  /** null accepts; a string is the reason of the refusal. `value` null is a delete. */
  validate(key: string, value: Value): string | null;
}

export interface ConfigOptions {
  readonly configKeysMax: number;
  /** Versions kept per key (the current one included). */
  readonly configHistoryMax: number;
  readonly configValidators: readonly ConfigValidator[];
}

export const configDefaults: ConfigOptions = { configKeysMax: 1024, configHistoryMax: 16, configValidators: [] };

export interface ConfigVersion {
  readonly version: number;
  /** null: deleted. */
  readonly value: Value;
  readonly index: number;
  readonly timeMs: number;
}

export interface ConfigEntry {
  readonly key: string;
  readonly version: number;
  readonly value: Value;
}

export type ConfigCommand =
  | { readonly op: 'set'; readonly key: string; readonly value: Value; readonly expectedVersion?: number }
  | { readonly op: 'delete'; readonly key: string; readonly expectedVersion?: number }
  | { readonly op: 'rollback'; readonly key: string; readonly toVersion: number; readonly expectedVersion?: number };

export type ConfigRefusalCode = 'VERSION_MISMATCH' | 'INVALID_CONFIG' | 'UNKNOWN_VERSION' | 'UNKNOWN_KEY' | 'KEYS_FULL';

export type ConfigResult =
  | ({ readonly status: 'set' } & ConfigEntry)
  | (Refusal<ConfigRefusalCode> & { readonly current: number; readonly validator?: string });

interface KeyState {
  version: number;
  /** Oldest first; the last is the current version. */
  history: ConfigVersion[];
}

export class ConfigPart extends ValuePart<ConfigCommand, ConfigResult> {
  private readonly options: ConfigOptions;
  private keys = new Map<string, KeyState>();

  constructor(options: Partial<ConfigOptions> = {}) {
    super();
    this.options = { ...configDefaults, ...options };
    assert(Number.isSafeInteger(this.options.configKeysMax) && this.options.configKeysMax > 0, 'configKeysMax > 0');
    assert(Number.isSafeInteger(this.options.configHistoryMax) && this.options.configHistoryMax > 0, 'configHistoryMax > 0');
    const names = this.options.configValidators.map((v) => v.name);
    assert(new Set(names).size === names.length, 'validator names are distinct');
    // Run in name order: the same order on every replica whatever order they were listed in.
    this.options = { ...this.options, configValidators: [...this.options.configValidators].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }

  protected parse(value: Value): ConfigCommand {
    const { op, fields: f } = opOf(value, ['set', 'delete', 'rollback'] as const, 'a config command');
    const key = f.string('key', configKeyCharsMax);
    const expectedVersion = f.optionalInt('expectedVersion', 0, intMax);
    const cas = expectedVersion === undefined ? {} : { expectedVersion };
    let c: ConfigCommand;
    if (op === 'set') c = { op, key, value: f.value('value'), ...cas };
    else if (op === 'delete') c = { op, key, ...cas };
    else c = { op, key, toVersion: f.int('toVersion', 1, intMax), ...cas };
    f.done();
    return c;
  }

  protected run(c: ConfigCommand, ctx: ApplyContext): ConfigResult {
    const state = this.keys.get(c.key);
    const current = state?.version ?? 0;
    if (c.expectedVersion !== undefined && c.expectedVersion !== current) {
      return { ...refuse('VERSION_MISMATCH', `${c.key} is at version ${current}, not ${c.expectedVersion}`), current };
    }
    let value: Value;
    if (c.op === 'set') value = c.value;
    else if (c.op === 'delete') value = null;
    else {
      if (state === undefined) return { ...refuse('UNKNOWN_KEY', `no config ${c.key}`), current };
      const old = state.history.find((h) => h.version === c.toVersion);
      if (old === undefined) return { ...refuse('UNKNOWN_VERSION', `version ${c.toVersion} of ${c.key} is not kept`), current };
      value = old.value;
    }
    if (state === undefined && this.keys.size >= this.options.configKeysMax) return { ...refuse('KEYS_FULL', `${this.keys.size} config keys`), current };
    const refusal = this.validate(c.key, value);
    if (refusal !== null) return { ...refuse('INVALID_CONFIG', refusal.message), current, validator: refusal.validator };
    const next = state ?? { version: 0, history: [] };
    next.version++;
    next.history.push({ version: next.version, value, index: ctx.index, timeMs: ctx.timeMs });
    if (next.history.length > this.options.configHistoryMax) next.history.shift();
    this.keys.set(c.key, next);
    ctx.report({ kind: 'config', key: c.key, version: next.version });
    return { status: 'set', key: c.key, version: next.version, value };
  }

  private validate(key: string, value: Value): { validator: string; message: string } | null {
    for (const v of this.options.configValidators) {
      if (!key.startsWith(v.keyPrefix)) continue;
      let reason: string | null;
      try {
        reason = v.validate(key, value);
      } catch (e) {
        reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      if (reason !== null) return { validator: v.name, message: reason.slice(0, 512) };
    }
    return null;
  }

  get(key: string): ConfigEntry | null {
    const s = this.keys.get(key);
    if (s === undefined) return null;
    return { key, version: s.version, value: (s.history[s.history.length - 1] as ConfigVersion).value };
  }

  history(key: string): readonly ConfigVersion[] {
    return this.keys.get(key)?.history ?? [];
  }

  query(query: unknown): unknown {
    const { op, fields: f } = opOf(query as Value, ['get', 'history', 'keys'] as const, 'a config query', 'q');
    let answer: unknown;
    if (op === 'get') answer = this.get(f.string('key', configKeyCharsMax));
    else if (op === 'history') answer = this.history(f.string('key', configKeyCharsMax));
    else {
      const prefix = f.optionalString('prefix', configKeyCharsMax) ?? '';
      const limit = f.optionalInt('limit', 1, 10_000) ?? 1000;
      const keys = [...this.keys.keys()].filter((k) => k.startsWith(prefix)).sort();
      answer = keys.slice(0, limit).map((k) => this.get(k));
    }
    f.done();
    return answer;
  }

  protected save(): Value {
    return [...this.keys].map(([key, s]) => [key, s.version, s.history as unknown as Value[]]);
  }

  protected load(state: Value): void {
    if (!Array.isArray(state)) throw new MalformedCommandError('config snapshot must be a list');
    const keys = new Map<string, KeyState>();
    for (const row of state as readonly Value[]) {
      if (!Array.isArray(row) || row.length !== 3) throw new MalformedCommandError('a config snapshot row');
      const [key, version, history] = row as readonly Value[];
      if (typeof key !== 'string' || typeof version !== 'number' || !Number.isSafeInteger(version) || !Array.isArray(history)) throw new MalformedCommandError('a config snapshot row');
      const versions = (history as readonly Value[]).map((h) => {
        const f = new Fields(h, 'a config version');
        const v: ConfigVersion = { version: f.int('version', 1, intMax), value: f.value('value'), index: f.int('index', 0, intMax), timeMs: f.int('timeMs', 0, intMax) };
        f.done();
        return v;
      });
      if (versions.length === 0 || versions[versions.length - 1]?.version !== version) throw new MalformedCommandError(`config ${key}: history does not end at its version`);
      keys.set(key, { version, history: versions });
    }
    this.keys = keys;
  }
}
