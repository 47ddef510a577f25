/**
 * Planting a mutant: copy the source aside (`src/` with the package and TypeScript settings it
 * runs under, and a link to the installed packages) into a fresh temporary directory and apply
 * the mutant's exact edits there. The
 * working tree is never touched. An edit whose text does not occur exactly once is refused with
 * a `PlantError`: the code it targeted moved, and the catalogue must follow it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MutantEdit } from './catalogue.ts';

export class PlantError extends Error {
  override readonly name = 'PlantError';
}

/** What a copy needs to run the simulator: the sources and the module settings. */
const copied = ['src', 'package.json', 'tsconfig.json'] as const;

/** Copy the tree at `root` aside; returns the copy's directory. `edits` applied (none: a clean control copy). */
export function plantCopy(root: string, edits: readonly MutantEdit[], label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `peerquorum-mutant-${label}-`));
  try {
    for (const entry of copied) cpSync(join(root, entry), join(dir, entry), { recursive: true });
    // The copy imports what the source imports (msgpackr for the wire codec): the same packages.
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    for (const edit of edits) applyEdit(dir, edit);
    return dir;
  } catch (error) {
    removeCopy(dir);
    throw error;
  }
}

export function removeCopy(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function applyEdit(dir: string, edit: MutantEdit): void {
  const path = join(dir, edit.file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new PlantError(`${edit.file} does not exist`);
  }
  const first = text.indexOf(edit.find);
  if (first < 0) throw new PlantError(`${edit.file}: the text to replace is not there: ${JSON.stringify(edit.find)}`);
  if (text.indexOf(edit.find, first + 1) >= 0) throw new PlantError(`${edit.file}: the text to replace occurs more than once: ${JSON.stringify(edit.find)}`);
  writeFileSync(path, text.slice(0, first) + edit.replace + text.slice(first + edit.find.length));
}
