/**
 * Just enough of Vitest to run a compliance suite written for Vitest unchanged inside a page,
 * where Vitest itself cannot run: the transport suite (test/io/transport-compliance.ts, for
 * e2e/webrtc-compliance.spec.ts) and the storage suite (test/io/storage-compliance.ts, for
 * e2e/indexeddb-compliance.spec.ts). The spec transpiles the suite to CommonJS in Node and
 * evaluates it here with `require` answering `vitest` with this shim and the suite's few value
 * imports of our sources with the page's own modules (so that `instanceof StorageError` in the
 * suite sees the class the adapter throws). What is here: `describe`, `it`/`test` and `it.each`
 * (names with `$field`, `%s`, `%i`, `%d`, `%#`), a test context with `skip()`, `onTestFinished`,
 * `expect` with `.not`, `.rejects` and `.resolves`, and Vitest's semantics for every matcher it
 * has (`toStrictEqual` checks types and undefined properties, unlike `toEqual`). A matcher or
 * API the shim lacks fails loudly by name, so a suite that grows one cannot pass by accident.
 */

export interface ShimTest {
  readonly name: string;
  /** The names of the enclosing `describe`s and the test's, joined by ' > '. */
  readonly path: string;
  /** Runs the test with its context, then its `onTestFinished` callbacks; rejects as Vitest would fail it. */
  readonly fn: () => Promise<void>;
}

export interface VitestShim {
  readonly module: Record<string, unknown>;
  readonly tests: ShimTest[];
}

class ShimAssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** What `ctx.skip()` throws: the test stops and is reported skipped, not passed. */
export class ShimSkipped extends Error {
  override readonly name = 'Skipped';
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `Uint8Array(${v.length})[${[...v.subarray(0, 16)].join(',')}]` : v));
  } catch {
    return String(value);
  }
}

/**
 * Vitest's equality: `toEqual` (strict false) ignores undefined properties and object types;
 * `toStrictEqual` (strict true) counts undefined properties and array holes, and wants the same
 * constructor at every level. Typed arrays compare by type and elements in both.
 */
export function deepEqual(a: unknown, b: unknown, strict = false): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    return deepEqual([...(a as Uint8Array)], [...(b as Uint8Array)]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (strict && a.constructor !== b.constructor) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k), strict)) return false;
    return true;
  }
  const keys = (o: object): string[] => Object.keys(o).filter((k) => strict || (o as Record<string, unknown>)[k] !== undefined);
  const ka = keys(a);
  const kb = new Set(keys(b));
  if (ka.length !== kb.size || !ka.every((k) => kb.has(k))) return false;
  if (!strict && Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], strict));
}

/** Whether `thrown` is what `toThrow(expected)` asks for: a message part, a pattern, a class, an error. */
function throwMatches(thrown: unknown, expected: unknown): [pass: boolean, message: string] {
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  if (expected === undefined) return [true, `expected nothing to be thrown, got ${show(message)}`];
  if (typeof expected === 'function') {
    return [thrown instanceof expected, `expected an instance of ${expected.name} to be thrown, got ${show(message)}`];
  }
  if (expected instanceof RegExp) return [expected.test(message), `expected a throw matching ${String(expected)}, got ${show(message)}`];
  if (expected instanceof Error) return [message === expected.message, `expected a throw of ${show(expected.message)}, got ${show(message)}`];
  return [message.includes(String(expected)), `expected a throw including ${show(String(expected))}, got ${show(message)}`];
}

type Matcher = (actual: unknown, ...expected: unknown[]) => [pass: boolean, message: string];

const matchers: Record<string, Matcher> = {
  toBe: (actual, expected) => [Object.is(actual, expected), `expected ${show(actual)} to be ${show(expected)}`],
  toEqual: (actual, expected) => [deepEqual(actual, expected), `expected ${show(actual)} to equal ${show(expected)}`],
  toStrictEqual: (actual, expected) => [deepEqual(actual, expected, true), `expected ${show(actual)} to strictly equal ${show(expected)}`],
  toContain: (actual, item) => {
    const pass = typeof actual === 'string' ? actual.includes(String(item)) : Array.isArray(actual) && actual.some((x) => Object.is(x, item));
    return [pass, `expected ${show(actual)} to contain ${show(item)}`];
  },
  toBeGreaterThan: (actual, n) => [(actual as number) > (n as number), `expected ${show(actual)} > ${show(n)}`],
  toBeGreaterThanOrEqual: (actual, n) => [(actual as number) >= (n as number), `expected ${show(actual)} >= ${show(n)}`],
  toBeLessThan: (actual, n) => [(actual as number) < (n as number), `expected ${show(actual)} < ${show(n)}`],
  toBeLessThanOrEqual: (actual, n) => [(actual as number) <= (n as number), `expected ${show(actual)} <= ${show(n)}`],
  toBeNull: (actual) => [actual === null, `expected ${show(actual)} to be null`],
  toBeUndefined: (actual) => [actual === undefined, `expected ${show(actual)} to be undefined`],
  toBeDefined: (actual) => [actual !== undefined, `expected a defined value`],
  toBeTruthy: (actual) => [Boolean(actual), `expected ${show(actual)} to be truthy`],
  toBeFalsy: (actual) => [!actual, `expected ${show(actual)} to be falsy`],
  toHaveLength: (actual, n) => [(actual as { length?: unknown })?.length === n, `expected length ${show((actual as { length?: unknown })?.length)} to be ${show(n)}`],
  toBeInstanceOf: (actual, cls) => {
    if (typeof cls !== 'function') return [false, `toBeInstanceOf wants a class, got ${show(cls)}`];
    const got = actual instanceof Error ? `${actual.name}: ${actual.message}` : show(actual);
    return [actual instanceof cls, `expected ${got} to be an instance of ${cls.name}`];
  },
  toThrow: (actual, expected) => {
    if (typeof actual !== 'function') return [false, 'expected a function'];
    try {
      (actual as () => unknown)();
    } catch (e) {
      return throwMatches(e, expected);
    }
    return [false, 'expected the function to throw'];
  },
};

function matcherOf(prop: string): Matcher {
  const matcher = matchers[prop];
  if (matcher === undefined) throw new Error(`vitest shim: matcher ${prop} is not implemented; add it to e2e/pages/webrtc-vitest-shim.ts`);
  return matcher;
}

function check(matcher: Matcher, actual: unknown, expected: unknown[], negated: boolean): void {
  const [pass, message] = matcher(actual, ...expected);
  if (pass === negated) throw new ShimAssertionError(negated ? `not: ${message}` : message);
}

/**
 * `expect(promise).rejects` / `.resolves`: every matcher returns a promise that settles once the
 * promise has, and fails if it settled the other way. Under `rejects`, `toThrow` looks at the
 * rejection reason, as in Vitest.
 */
function makeAsyncExpect(promise: unknown, how: 'rejects' | 'resolves', negated: boolean): unknown {
  return new Proxy(
    {},
    {
      get(_target, prop) {
        if (prop === 'not') return makeAsyncExpect(promise, how, !negated);
        if (typeof prop !== 'string') return undefined;
        const matcher = matcherOf(prop);
        return async (...expected: unknown[]): Promise<void> => {
          let settled: { ok: true; value: unknown } | { ok: false; reason: unknown };
          try {
            settled = { ok: true, value: await promise };
          } catch (reason) {
            settled = { ok: false, reason };
          }
          if (how === 'rejects') {
            if (settled.ok) throw new ShimAssertionError(`promise resolved ${show(settled.value)} instead of rejecting`);
            const reason = settled.reason;
            check(matcher, prop === 'toThrow' ? () => { throw reason; } : reason, expected, negated);
          } else {
            if (!settled.ok) throw new ShimAssertionError(`promise rejected ${show(String(settled.reason))} instead of resolving`);
            check(matcher, settled.value, expected, negated);
          }
        };
      },
    },
  );
}

function makeExpect(actual: unknown, negated: boolean): unknown {
  return new Proxy(
    {},
    {
      get(_target, prop) {
        if (prop === 'not') return makeExpect(actual, !negated);
        if (prop === 'rejects' || prop === 'resolves') {
          if (negated) throw new Error(`vitest shim: expect(...).not.${prop} is not implemented (Vitest wants .${prop}.not)`);
          return makeAsyncExpect(actual, prop, false);
        }
        if (typeof prop !== 'string') return undefined;
        const matcher = matcherOf(prop);
        return (...expected: unknown[]) => check(matcher, actual, expected, negated);
      },
    },
  );
}

/** Vitest's `it.each` test name: `$a.b` reads a field of an object case; `%s %d %i %j %#` format an array case. */
function eachName(template: string, testCase: unknown, index: number): string {
  const args = Array.isArray(testCase) ? [...(testCase as unknown[])] : [testCase];
  let name = template.replace(/%([sdijo#%])/g, (_m, f: string) => {
    if (f === '%') return '%';
    if (f === '#') return String(index);
    const value = args.shift();
    if (f === 'd' || f === 'i') return String(f === 'i' ? Math.trunc(Number(value)) : Number(value));
    return typeof value === 'string' ? value : show(value);
  });
  if (!Array.isArray(testCase) && typeof testCase === 'object' && testCase !== null) {
    name = name.replace(/\$([A-Za-z_][\w.]*)/g, (_m, path: string) => {
      const value = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], testCase);
      return typeof value === 'string' ? value : show(value);
    });
  }
  if (/%[a-zA-Z]/.test(name)) throw new Error(`vitest shim: it.each name ${show(template)} has a format the shim does not implement`);
  return name;
}

interface TestContext {
  readonly task: { readonly name: string };
  skip(note?: string): never;
}

export function createVitestShim(): VitestShim {
  const tests: ShimTest[] = [];
  const prefix: string[] = [];
  /** The `onTestFinished` callbacks of the test that is running (tests run one at a time). */
  let finishing: (() => unknown)[] | null = null;

  const run = async (name: string, fn: (ctx: TestContext) => unknown): Promise<void> => {
    if (finishing !== null) throw new Error('vitest shim: tests run one at a time; another test is still running');
    const callbacks: (() => unknown)[] = [];
    finishing = callbacks;
    const ctx: TestContext = {
      task: { name },
      skip: (note?: string): never => {
        throw new ShimSkipped(note ?? `${name} skipped itself`);
      },
    };
    let failure: { error: unknown } | null = null;
    try {
      await fn(ctx);
    } catch (e) {
      failure = { error: e };
    } finally {
      finishing = null;
      // Vitest's default order for these (sequence.hooks 'stack'): the last registered runs first.
      for (const cb of callbacks.reverse()) {
        try {
          await cb();
        } catch (e) {
          failure ??= { error: e };
        }
      }
    }
    if (failure !== null) throw failure.error;
  };

  const describe = (name: string, fn: () => void): void => {
    prefix.push(name);
    try {
      fn();
    } finally {
      prefix.pop();
    }
  };
  const it = (name: string, fn: (ctx: TestContext) => unknown): void => {
    tests.push({ name, path: [...prefix, name].join(' > '), fn: () => run(name, fn) });
  };
  it.each =
    (cases: readonly unknown[]) =>
    (template: string, fn: (...args: unknown[]) => unknown): void => {
      cases.forEach((testCase, index) => {
        const args = Array.isArray(testCase) ? [...(testCase as unknown[])] : [testCase];
        it(eachName(template, testCase, index), () => fn(...args));
      });
    };
  const onTestFinished = (cb: () => unknown): void => {
    if (finishing === null) throw new Error('vitest shim: onTestFinished called outside a running test');
    finishing.push(cb);
  };
  const unsupported = (what: string) => () => {
    throw new Error(`vitest shim: ${what} is not implemented`);
  };
  const expect = (actual: unknown): unknown => makeExpect(actual, false);
  return {
    tests,
    module: {
      describe,
      it,
      test: it,
      expect,
      onTestFinished,
      beforeAll: unsupported('beforeAll'),
      afterAll: unsupported('afterAll'),
      beforeEach: unsupported('beforeEach'),
      afterEach: unsupported('afterEach'),
      onTestFailed: unsupported('onTestFailed'),
      vi: new Proxy({}, { get: (_t, prop) => unsupported(`vi.${String(prop)}`)() }),
    },
  };
}

/**
 * Evaluate a suite transpiled to CommonJS with this shim as `vitest`, and return its exports
 * and the shim (whose `tests` fill up when the suite's describe function is called). `modules`
 * answers the suite's other value imports, by the specifier it imports them with; any other
 * import fails loudly.
 */
export function loadSuite(code: string, modules: Readonly<Record<string, unknown>> = {}): { exports: Record<string, unknown>; shim: VitestShim } {
  const shim = createVitestShim();
  const module = { exports: {} as Record<string, unknown> };
  const require = (name: string): unknown => {
    if (name === 'vitest') return shim.module;
    if (Object.hasOwn(modules, name)) return modules[name];
    throw new Error(`the transpiled suite imports ${name}: only vitest, type-only imports and the modules handed to loadSuite can be required`);
  };
  new Function('require', 'exports', 'module', code)(require, module.exports, module);
  return { exports: module.exports, shim };
}
