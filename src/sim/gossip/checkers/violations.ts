/**
 * A checker's violations of one kind: all counted, the first few described (a seed with a broken
 * engine can break a property thousands of times; the first few are what a person debugs).
 */
export const violationExamplesMax = 5;

export class Violations {
  count = 0;
  readonly examples: string[] = [];

  add(detail: string): void {
    this.count++;
    if (this.examples.length < violationExamplesMax) this.examples.push(detail);
  }
}

/** Virtual microseconds as seconds with milliseconds, for details. */
export function at(us: number): string {
  return `${(us / 1e6).toFixed(3)}s`;
}
