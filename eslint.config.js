/**
 * ESLint flat config. Two jobs:
 * 1. typescript-eslint `recommended` everywhere (syntax-only rules: no type information, so a
 *    full `eslint .` stays a few seconds on a 2-core machine; `npm run typecheck` runs tsc).
 * 2. Keep `src/core/**` and `src/machines/**` pure (DESIGN.md section 1): no timers, clocks,
 *    global randomness, `await`, DOM, Node or I/O libraries, and no imports from the layers
 *    above. tsconfig.core.json (lib ES2022, no DOM, no Node types) is the first net; this is
 *    the second, and the only one for what ES2022 itself provides (`Date`, `Math.random`,
 *    `await`, `queueMicrotask`-style escapes).
 */
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const PURE_LAYER_FILES = ['src/core/**/*.ts', 'src/machines/**/*.ts'];

const PURITY_REASON =
  'src/core and src/machines are pure (DESIGN.md section 1): time is tick(), randomness is the ' +
  'injected Prng, and only src/runtime/driver.ts schedules timers and does I/O.';

const impureGlobals = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'queueMicrotask',
  'requestAnimationFrame',
  'Date',
  'performance',
  'crypto',
  'window',
  'document',
  'self',
  'navigator',
  'indexedDB',
  'fetch',
  'BroadcastChannel',
  'Worker',
  'process',
].map((name) => ({ name, message: `\`${name}\` is not allowed here. ${PURITY_REASON}` }));

const impureSyntax = [
  {
    selector:
      "MemberExpression[object.name='Math']:matches([property.name='random'], [property.value='random'])",
    message: `Math.random is not allowed here: draw from the injected Prng. ${PURITY_REASON}`,
  },
  {
    selector: 'AwaitExpression',
    message: `\`await\` is not allowed here: this layer is synchronous. ${PURITY_REASON}`,
  },
  {
    selector: 'ForOfStatement[await=true]',
    message: `\`for await\` is not allowed here: this layer is synchronous. ${PURITY_REASON}`,
  },
  ...['FunctionDeclaration', 'ArrowFunctionExpression', 'FunctionExpression'].map((type) => ({
    selector: `${type}[async=true]`,
    message: `async functions are not allowed here: this layer is synchronous. ${PURITY_REASON}`,
  })),
];

const impureImports = {
  paths: ['peerjs', 'msgpackr', 'comlink', 'idb-keyval', 'fs', 'path', 'os', 'worker_threads'].map(
    (name) => ({ name, message: `\`${name}\` is I/O. ${PURITY_REASON}` }),
  ),
  patterns: [
    {
      group: ['node:*', 'peerjs/*', 'msgpackr/*', 'comlink/*', 'idb-keyval/*', 'fs/*', 'path/*'],
      message: `Node and I/O modules are not allowed here. ${PURITY_REASON}`,
    },
    {
      // This rule does not resolve specifiers, so match the layer's folder reached by climbing
      // out (`../../runtime/driver.ts`; a `./` path cannot leave the pure layer) or named
      // through `src/` (`../../../src/io/envelope.ts`).
      regex: String.raw`^(\.\./)+(src/)?(runtime|io|client|sim)(/|$)|(^|/)src/(runtime|io|client|sim)(/|$)`,
      message: `src/core and src/machines must not import src/runtime, src/io, src/client or src/sim (DESIGN.md section 1: imports point down).`,
    },
  ],
};

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'coverage/', 'test-results/', 'playwright-report/']),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    name: 'peerquorum/all',
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `for (;;)` and `while (true)` with a bounded break are normal in a driver loop.
      'no-constant-condition': ['error', { checkLoops: false }],
      // `import { type X } from './x.ts'` keeps a runtime `import './x.ts'` under
      // verbatimModuleSyntax; write `import type { X }` so that type-only really means erased
      // (the import-cycle check in `npm run lint` skips type-only imports).
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // Visible outside the core (tests poke invalid input), forbidden inside it (below).
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },

  {
    name: 'peerquorum/plain-js',
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },

  {
    name: 'peerquorum/pure-layers',
    files: PURE_LAYER_FILES,
    rules: {
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-syntax': ['error', ...impureSyntax],
      'no-restricted-imports': ['error', impureImports],
    },
  },

  {
    name: 'peerquorum/core-no-any',
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
);
