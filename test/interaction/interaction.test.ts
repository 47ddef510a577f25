/**
 * Golden-file interaction tests, in the style of etcd-raft's datadriven tests: each script in
 * `scripts/` drives an in-memory cluster through `harness.ts` (seeded, manual network, memory
 * storage, crash and restart), and its transcript (every command with every Ready handled,
 * message sent, role change and entry applied) must match `golden/<name>.txt`.
 *
 * A changed behaviour shows up as a diff of the golden file. To accept it, regenerate with
 * `npx vitest run test/interaction -u` and READ the new golden file: it must show correct Raft
 * behaviour (the comments in the script say what to look for). The harness also aborts a run
 * that breaks election safety or state machine safety, and no golden file may record an abort.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScript } from './harness.ts';

const scriptsDir = new URL('./scripts/', import.meta.url);
const scripts = readdirSync(scriptsDir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('interaction scripts', () => {
  it('there are scripts to run', () => {
    expect(scripts.length).toBeGreaterThan(0);
  });

  it.each(scripts)('%s', async (file) => {
    const transcript = runScript(readFileSync(new URL(file, scriptsDir), 'utf8'));
    expect(transcript).not.toMatch(/^script aborted/m);
    await expect(transcript).toMatchFileSnapshot(`./golden/${file}`);
  });
});
