/**
 * What this proves about `decode`, the door for a peer's state (STYLE.md: validate and drop, never
 * assert on network input): for every type, input of the wrong shape, unsafe or out-of-range
 * integers (a counter of 2^53, a dot past countMax), strings too long or not well-formed, repeated
 * replicas, dots, elements and fields, dots the state's context has not seen, unknown field
 * types, maps nested past nestingDepthMax and collections past the entry budget (4 Mi empty lists
 * among them) are each refused with a typed refusal (code CODEC, a stable reason, a path), never
 * a throw; oversized lists are refused before a single item is read (a Proxy counts the reads); a
 * valid state that uses up this replica's dots gets its later mutations refused, not asserted;
 * and a seeded fuzzer mutating valid encodings never makes decode throw, while whatever it accepts
 * re-encodes canonically.
 */
import { describe, expect, it } from 'vitest';
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import { crdtTypeNames, crdtTypes, type CrdtType, type CrdtTypeName } from '../../../src/core/crdt/crdt-types.ts';
import { countMax, entriesPerStateMax, keyBytesMax, replicaIdBytesMax, replicasPerVectorMax } from '../../../src/core/crdt/limits.ts';
import type { CrdtRefusalReason } from '../../../src/core/crdt/refusal.ts';
import type { WireValue } from '../../../src/core/crdt/wire-reader.ts';
import { orMapApply } from '../../../src/core/crdt/or-map.ts';
import { orSetAdd } from '../../../src/core/crdt/or-set.ts';
import { runHistory } from './crdt-histories.ts';

function refusalOf(name: CrdtTypeName, input: unknown): CrdtRefusalReason | 'accepted' {
  const result = (crdtTypes[name] as CrdtType<unknown, unknown>).decode(input);
  if (result.ok) return 'accepted';
  expect(result.error.code).toBe('CODEC');
  expect(result.error.message).toContain(result.error.path);
  return result.error.reason;
}

describe.each(crdtTypeNames)('%s refuses what is not a state', (name) => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['a number', 7],
    ['a string', 'state'],
    ['an object', { length: 4, 0: [] }],
    ['an object with __proto__', JSON.parse('{"__proto__": [1, 2]}')],
    ['a Map', new Map()],
    ['a typed array', new Uint8Array(4)],
    ['a deep nest of lists', Array.from({ length: 10_000 }).reduce<unknown>((inner) => [inner], [])],
  ])('%s', (_, input) => {
    const reason = refusalOf(name, input);
    expect(['shape', 'integer', 'text']).toContain(reason);
  });
});

const mv = (table: unknown, store: unknown, vector: unknown = [0, 1], cloud: unknown = []): unknown[] => [table, store, vector, cloud];

describe('hostile states, one rule each', () => {
  it.each<[string, CrdtTypeName, unknown, CrdtRefusalReason | 'accepted']>([
    ['a valid g-counter', 'g-counter', ['a', 3, 'b', 1], 'accepted'],
    ['a counter of 2^53', 'g-counter', ['a', 2 ** 53], 'integer'],
    ['a counter past countMax', 'g-counter', ['a', countMax + 1], 'integer'],
    ['a negative counter', 'g-counter', ['a', -1], 'integer'],
    ['a fractional counter', 'g-counter', ['a', 1.5], 'integer'],
    ['a zero entry (never written: one state, one encoding)', 'g-counter', ['a', 0], 'integer'],
    ['a counter as a string', 'g-counter', ['a', '3'], 'integer'],
    ['an odd flat list', 'g-counter', ['a', 1, 'b'], 'shape'],
    ['a replica twice', 'g-counter', ['a', 1, 'a', 2], 'duplicate'],
    ['an empty replica id', 'g-counter', ['', 1], 'text'],
    ['a replica id past its bound', 'g-counter', ['r'.repeat(replicaIdBytesMax + 1), 1], 'text'],
    ['a replica id with a lone surrogate', 'g-counter', ['\udfff', 1], 'text'],
    ['more replicas than a vector holds', 'g-counter', Array.from({ length: replicasPerVectorMax + 1 }).flatMap((_, i) => [`r${i}`, 1]), 'too-many'],
    ['a PN-Counter with one half', 'pn-counter', [['a', 1]], 'shape'],
    ['a PN-Counter half of 2^53', 'pn-counter', [['a', 1], ['b', 2 ** 53]], 'integer'],
    ['a valid LWW write', 'lww-register', [5, 'a', 'v'], 'accepted'],
    ['an LWW timestamp of 2^53', 'lww-register', [2 ** 53, 'a', 'v'], 'integer'],
    ['an LWW value that is a list', 'lww-register', [1, 'a', ['v']], 'value'],
    ['an LWW value NaN', 'lww-register', [1, 'a', Number.NaN], 'value'],
    ['an LWW value string past valueBytesMax', 'lww-register', [1, 'a', 'v'.repeat(70_000)], 'text'],
    ['a valid MV-Register', 'mv-register', mv(['a'], [0, 1, 'v']), 'accepted'],
    ['a dot the context has not seen', 'mv-register', mv(['a'], [0, 2, 'v']), 'inconsistent'],
    ['a dot of seq 0', 'mv-register', mv(['a'], [0, 0, 'v']), 'integer'],
    ['a dot of seq 2^53', 'mv-register', mv(['a'], [0, 2 ** 53, 'v'], [0, 1], [0, 2 ** 53]), 'integer'],
    ['a replica index past the table', 'mv-register', mv(['a'], [1, 1, 'v']), 'integer'],
    ['a replica named with an empty table', 'mv-register', mv([], [0, 1, 'v'], []), 'shape'],
    ['a table out of order', 'mv-register', mv(['b', 'a'], [0, 1, 'v']), 'duplicate'],
    ['a table with a repeat', 'mv-register', mv(['a', 'a'], [0, 1, 'v']), 'duplicate'],
    ['a dot twice', 'mv-register', mv(['a'], [0, 1, 'v', 0, 1, 'w']), 'duplicate'],
    ['a vector replica twice', 'mv-register', mv(['a'], [], [0, 1, 0, 2]), 'duplicate'],
    ['a valid OR-Set', 'or-set', mv(['a'], ['x', 1, 0, 1]), 'accepted'],
    ['an element whose dot count runs past the list', 'or-set', mv(['a'], ['x', 5, 0, 1]), 'integer'],
    ['an element with no dots', 'or-set', mv(['a'], ['x', 0, 0, 1]), 'integer'],
    ['an element at the end without dots', 'or-set', mv(['a'], ['x']), 'shape'],
    ['an element twice', 'or-set', mv(['a'], ['x', 1, 0, 1, 'x', 1, 0, 1]), 'duplicate'],
    ['an element past keyBytesMax', 'or-set', mv(['a'], ['x'.repeat(keyBytesMax + 1), 1, 0, 1]), 'text'],
    ['an element that is a number', 'or-set', mv(['a'], [7, 1, 0, 1]), 'shape'],
    ['elements __proto__ and constructor', 'or-set', mv(['a'], ['__proto__', 1, 0, 1], [0, 2], [])
      .map((part, i) => (i === 1 ? ['__proto__', 1, 0, 1, 'constructor', 1, 0, 2] : part)), 'accepted'],
    ['a valid OR-Map', 'or-map', mv(['a'], ['k', 'g-counter', [0, 1, 3, 0]]), 'accepted'],
    ['a field of an unknown type', 'or-map', mv(['a'], ['k', 'bag', [0, 1, 3, 0]]), 'unknown-type'],
    ['a field type __proto__', 'or-map', mv(['a'], ['k', '__proto__', []]), 'unknown-type'],
    ['a field twice', 'or-map', mv(['a'], ['k', 'g-counter', [0, 1, 3, 0], 'k', 'g-counter', [0, 1, 3, 0]]), 'duplicate'],
    ['a field with an empty store', 'or-map', mv(['a'], ['k', 'or-set', []]), 'shape'],
    ['a g-counter field with decrements', 'or-map', mv(['a'], ['k', 'g-counter', [0, 1, 3, 1]]), 'integer'],
    ['a counter field of 2^53', 'or-map', mv(['a'], ['k', 'pn-counter', [0, 1, 2 ** 53, 0]]), 'integer'],
    ['an LWW field with a bad value', 'or-map', mv(['a'], ['k', 'lww-register', [0, 1, 5, {}]]), 'value'],
  ])('%s', (_, name, input, reason) => {
    expect(refusalOf(name, input)).toBe(reason);
  });

  it('maps nested past nestingDepthMax are refused, at the limit accepted', () => {
    const nest = (levels: number): WireValue => {
      let store: WireValue = ['leaf', 'g-counter', [0, 1, 1, 0]];
      for (let i = 1; i < levels; i++) store = [`level ${i}`, 'or-map', store];
      return mv(['a'], store) as WireValue;
    };
    expect(refusalOf('or-map', nest(3))).toBe('accepted');
    expect(refusalOf('or-map', nest(4))).toBe('too-deep');
    expect(refusalOf('or-map', nest(200))).toBe('too-deep');
  });

  it('4 Mi empty lists as fields are refused before one is read', () => {
    let reads = 0;
    const fields = new Proxy(new Array<unknown>(4 * 1024 * 1024 - 1), {
      get(target, property, receiver) {
        if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
        return Reflect.get(target, property, receiver);
      },
    });
    expect(refusalOf('or-map', mv(['a'], fields))).toBe('too-many');
    expect(reads).toBe(0);
  });

  it('the entry budget is one for the whole state, across nesting', () => {
    // Each part alone is within its own bound; together they pass entriesPerStateMax.
    // An OR-Set store costs 4 items per element of one dot: two such sets of an eighth of the
    // budget in elements each fit alone and not together.
    const elements = Math.ceil(entriesPerStateMax / 8) + 1;
    const set = (prefix: string): WireValue => Array.from({ length: elements }).flatMap((_, i) => [`${prefix}${i}`, 1, 0, i + 1]);
    expect(refusalOf('or-map', mv(['a'], ['s1', 'or-set', set('a')], [0, elements]))).toBe('accepted');
    const store = ['s1', 'or-set', set('a'), 's2', 'or-set', set('b')];
    expect(refusalOf('or-map', mv(['a'], store, [0, elements]))).toBe('too-many');
  });

  it('a peer’s valid state that exhausts this replica’s dots gets its mutations refused, never asserted', () => {
    const exhausted = crdtTypes['or-set'].decode([['me'], [], [0, countMax], []]);
    if (!exhausted.ok) throw new Error(exhausted.error.message);
    const result = orSetAdd(exhausted.value, 'me', 'x');
    expect(result.ok ? null : result.error).toMatchObject({ code: 'TOO_LARGE', reason: 'overflow' });
    expect(orSetAdd(exhausted.value, 'someone else', 'x').ok).toBe(true);
    const map = crdtTypes['or-map'].decode([['me'], [], [0, countMax], []]);
    if (!map.ok) throw new Error(map.error.message);
    expect(orMapApply(map.value, 'me', { op: 'update', key: 'n', field: { type: 'g-counter', add: 1 } }).ok).toBe(false);
  });

  it('a cloud of countless dots is refused by the budget', () => {
    const cloud = Array.from({ length: entriesPerStateMax + 1 }).flatMap((_, i) => [0, i + 3]);
    expect(refusalOf('or-set', mv(['a'], [], [0, 1], cloud))).toBe('too-many');
  });
});

function mutate(value: WireValue, prng: Prng): WireValue {
  if (!Array.isArray(value) || value.length === 0 || prng.nextInt(4) === 0) {
    const replacements: WireValue[] = [null, true, -1, 0, 2 ** 53, 1.5, '', 'x', '\ud800', [], [0], ['a', 1]];
    return replacements[prng.nextInt(replacements.length)] as WireValue;
  }
  const copy = [...value];
  const i = prng.nextInt(copy.length);
  switch (prng.nextInt(4)) {
    case 0:
      copy[i] = mutate(copy[i] as WireValue, prng);
      break;
    case 1:
      copy.splice(i, 1);
      break;
    case 2:
      copy.splice(i, 0, copy[prng.nextInt(copy.length)] as WireValue);
      break;
    default:
      copy[i] = mutate(copy[i] as WireValue, prng);
      copy[prng.nextInt(copy.length)] = mutate(copy[prng.nextInt(copy.length)] as WireValue, prng);
  }
  return copy;
}

describe.each(crdtTypeNames)('%s under a mutation fuzzer', (name) => {
  it('never throws, and what it accepts re-encodes canonically', () => {
    const type = crdtTypes[name] as CrdtType<unknown, unknown>;
    const history = runHistory(name, 4242, { replicaCount: 3, steps: 80 });
    const prng = createPrng(4243);
    let accepted = 0;
    for (const state of [...history.samples, ...history.replicas]) {
      const wire = type.encode(state);
      for (let i = 0; i < 40; i++) {
        const result = type.decode(mutate(wire, prng));
        if (!result.ok) continue;
        accepted++;
        const again = type.decode(type.encode(result.value));
        expect(again.ok && type.equals(again.value, result.value)).toBe(true);
      }
    }
    // Some mutations keep a state valid (a dropped element, a changed count): the accept path is exercised.
    expect(accepted).toBeGreaterThan(0);
  });
});
