/**
 * The names of the replicated data types: the registry's keys (crdt-types.ts), the types an
 * OR-Map field may hold (or-map.ts), and what the gossip engine and codec put on the wire beside
 * an encoded state. Apart from both so that neither imports the other.
 */
export const crdtTypeNames = ['g-counter', 'pn-counter', 'lww-register', 'mv-register', 'or-set', 'or-map'] as const;

export type CrdtTypeName = (typeof crdtTypeNames)[number];

const known: ReadonlySet<unknown> = new Set(crdtTypeNames);

export function isCrdtTypeName(name: unknown): name is CrdtTypeName {
  return known.has(name);
}
