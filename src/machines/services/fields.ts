/**
 * Field-by-field validation of a decoded command (./value.ts). Commands come from clients who
 * may be strangers: every field is checked for its type and bounds, and a field the command
 * does not define is refused too (nothing is silently ignored, so a command has one meaning).
 *
 * A failed check throws `MalformedCommandError`; the service parts read ALL fields before they
 * change anything, so the composite machine (./composite.ts) turns the throw into the same
 * `rejected` outcome on every replica with no change of state.
 */
import type { Value } from './value.ts';

export class MalformedCommandError extends Error {
  override readonly name = 'MalformedCommandError';
  readonly code = 'MALFORMED';
}

type ValueMap = { readonly [key: string]: Value };

export function isValueMap(v: Value | undefined): v is ValueMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Reads the fields of one command map; `done()` refuses any field not read. */
export class Fields {
  private readonly seen = new Set<string>();
  private readonly map: ValueMap;

  constructor(value: Value, what: string) {
    if (!isValueMap(value)) throw new MalformedCommandError(`${what} is not a map`);
    this.map = value;
  }

  private get(name: string): Value | undefined {
    this.seen.add(name);
    return Object.hasOwn(this.map, name) ? this.map[name] : undefined;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.map, name);
  }

  string(name: string, charsMax: number, charsMin = 1): string {
    const v = this.get(name);
    if (typeof v !== 'string') throw new MalformedCommandError(`${name} must be a string`);
    if (v.length < charsMin || v.length > charsMax) throw new MalformedCommandError(`${name} must have ${charsMin}..${charsMax} characters`);
    return v;
  }

  optionalString(name: string, charsMax: number): string | undefined {
    return this.has(name) ? this.string(name, charsMax) : (this.seen.add(name), undefined);
  }

  /** A safe integer in [min, max]. */
  int(name: string, min: number, max: number): number {
    const v = this.get(name);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new MalformedCommandError(`${name} must be an integer in ${min}..${max}`);
    return v;
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    return this.has(name) ? this.int(name, min, max) : (this.seen.add(name), undefined);
  }

  /** A finite number in [min, max]. */
  number(name: string, min: number, max: number): number {
    const v = this.get(name);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new MalformedCommandError(`${name} must be a number in ${min}..${max}`);
    return v;
  }

  boolean(name: string): boolean {
    const v = this.get(name);
    if (typeof v !== 'boolean') throw new MalformedCommandError(`${name} must be a boolean`);
    return v;
  }

  optionalBoolean(name: string, fallback: boolean): boolean {
    return this.has(name) ? this.boolean(name) : (this.seen.add(name), fallback);
  }

  /** One of `choices`. */
  oneOf<T extends string>(name: string, choices: readonly T[]): T {
    const v = this.get(name);
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new MalformedCommandError(`${name} must be one of ${choices.join(', ')}`);
    return v as T;
  }

  /** Distinct non-empty strings, returned sorted (a set has one order on every replica). */
  stringSet(name: string, countMax: number, charsMax: number, countMin = 0): string[] {
    const v = this.get(name);
    if (!Array.isArray(v)) throw new MalformedCommandError(`${name} must be an array`);
    const items = v as readonly Value[];
    if (items.length < countMin || items.length > countMax) throw new MalformedCommandError(`${name} must have ${countMin}..${countMax} items`);
    const out: string[] = [];
    for (const item of items) {
      if (typeof item !== 'string' || item.length === 0 || item.length > charsMax) throw new MalformedCommandError(`${name} items must be strings of 1..${charsMax} characters`);
      out.push(item);
    }
    out.sort();
    for (let i = 1; i < out.length; i++) if (out[i] === out[i - 1]) throw new MalformedCommandError(`${name} has a duplicate item`);
    return out;
  }

  /** Any value (opaque to the machine: tool arguments, results, payloads, documents). */
  value(name: string): Value {
    const v = this.get(name);
    if (v === undefined) throw new MalformedCommandError(`${name} is missing`);
    return v;
  }

  optionalValue(name: string): Value | undefined {
    return this.has(name) ? this.value(name) : (this.seen.add(name), undefined);
  }

  /** Refuses a field the command does not define. */
  done(): void {
    for (const key of Object.keys(this.map)) if (!this.seen.has(key)) throw new MalformedCommandError(`unknown field ${key}`);
  }
}

/** The `op` of a command map (or `q` of a query), checked against the service's ops. */
export function opOf<T extends string>(value: Value, ops: readonly T[], what: string, field = 'op'): { op: T; fields: Fields } {
  const fields = new Fields(value, what);
  return { op: fields.oneOf(field, ops), fields };
}
