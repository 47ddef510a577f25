/**
 * Just enough of Vitest's `describe`, `it` and `expect` to run a compliance suite written for
 * Vitest (test/io/transport-compliance.ts) unchanged inside a page, where Vitest itself cannot
 * run. The spec transpiles the suite to CommonJS in Node and evaluates it here with `require`
 * answering `vitest` with this shim. A matcher the shim lacks fails loudly by name, so a suite
 * that grows a new matcher cannot pass by accident.
 */

export interface ShimTest {
  readonly name: string;
  readonly path: string;
  readonly fn: () => unknown;
}

export interface VitestShim {
  readonly module: Record<string, unknown>;
  readonly tests: ShimTest[];
}

class ShimAssertionError extends Error {
  override readonly name = 'AssertionError';
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `Uint8Array(${v.length})[${[...v.subarray(0, 16)].join(',')}]` : v));
  } catch {
    return String(value);
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    return deepEqual([...(a as Uint8Array)], [...(b as Uint8Array)]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

type Matcher = (actual: unknown, ...expected: unknown[]) => [pass: boolean, message: string];

const matchers: Record<string, Matcher> = {
  toBe: (actual, expected) => [Object.is(actual, expected), `expected ${show(actual)} to be ${show(expected)}`],
  toEqual: (actual, expected) => [deepEqual(actual, expected), `expected ${show(actual)} to equal ${show(expected)}`],
  toStrictEqual: (actual, expected) => [deepEqual(actual, expected), `expected ${show(actual)} to strictly equal ${show(expected)}`],
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
  toThrow: (actual, pattern) => {
    if (typeof actual !== 'function') return [false, 'expected a function'];
    try {
      (actual as () => unknown)();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const pass = pattern === undefined || (pattern instanceof RegExp ? pattern.test(message) : message.includes(String(pattern)));
      return [pass, `expected the function to throw ${show(String(pattern))}, it threw ${show(message)}`];
    }
    return [false, 'expected the function to throw'];
  },
};

function makeExpect(actual: unknown, negated: boolean): unknown {
  return new Proxy(
    {},
    {
      get(_target, prop) {
        if (prop === 'not') return makeExpect(actual, !negated);
        if (typeof prop !== 'string') return undefined;
        const matcher = matchers[prop];
        if (matcher === undefined) throw new Error(`vitest shim: matcher ${prop} is not implemented; add it to e2e/pages/webrtc-vitest-shim.ts`);
        return (...expected: unknown[]) => {
          const [pass, message] = matcher(actual, ...expected);
          if (pass === negated) throw new ShimAssertionError(negated ? `not: ${message}` : message);
        };
      },
    },
  );
}

export function createVitestShim(): VitestShim {
  const tests: ShimTest[] = [];
  const prefix: string[] = [];
  const describe = (name: string, fn: () => void): void => {
    prefix.push(name);
    try {
      fn();
    } finally {
      prefix.pop();
    }
  };
  const it = (name: string, fn: () => unknown): void => {
    tests.push({ name, path: [...prefix, name].join(' > '), fn });
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
      beforeAll: unsupported('beforeAll'),
      afterAll: unsupported('afterAll'),
      beforeEach: unsupported('beforeEach'),
      afterEach: unsupported('afterEach'),
    },
  };
}

/**
 * Evaluate a suite transpiled to CommonJS with this shim as `vitest`, and return its exports
 * and the shim (whose `tests` fill up when the suite's describe function is called).
 */
export function loadSuite(code: string): { exports: Record<string, unknown>; shim: VitestShim } {
  const shim = createVitestShim();
  const module = { exports: {} as Record<string, unknown> };
  const require = (name: string): unknown => {
    if (name === 'vitest') return shim.module;
    throw new Error(`the transpiled suite imports ${name}: only vitest (and type-only imports) can be shimmed`);
  };
  new Function('require', 'exports', 'module', code)(require, module.exports, module);
  return { exports: module.exports, shim };
}
