#!/usr/bin/env node
/**
 * The `peerquorum` command (package.json "bin"). The command line is TypeScript
 * (src/cli/main.ts); this launcher registers tsx's loader IN THIS PROCESS and imports it, rather
 * than spawning `tsx` as a child: signals (SIGINT, SIGTERM, and a test's SIGKILL) must reach the
 * node itself, and a killed launcher must not leave an orphaned node holding its port and log.
 *
 * tsx is a devDependency, so this runs from a clone after `npm ci` (`npx peerquorum ...`, or
 * `node_modules/.bin/peerquorum` in a project that installs this one with its dev tools).
 */
let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  process.stderr.write('peerquorum: cannot load tsx (run `npm ci` in the peerquorum checkout first)\n');
  process.exit(5);
}
register();
const { run } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
await run();
