/**
 * The functions with the most self time in a `.cpuprofile` written by `node --cpu-prof` (the
 * edge benchmark's `--cpu-prof`), printed to stderr with their share of the samples. A measuring
 * aid: the figures of a profiled run are not the benchmark's.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

export function summarizeCpuProfile(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const f = byId.get(id)?.callFrame;
    const key = f === undefined ? '?' : `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  console.error(`profile ${file}: ${total} samples; top self time:`);
  for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.error(`  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${key}`);
}
