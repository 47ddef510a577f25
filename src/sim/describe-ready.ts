/** A Ready in one line, for a seed's trace: what it writes, applies and sends. */
import type { Entry, Ready } from '../core/raft/types.ts';

export function describeReady(rd: Ready): string {
  const range = (es: readonly Entry[]): string => (es.length === 0 ? '-' : `${(es[0] as Entry).index}..${(es[es.length - 1] as Entry).index}`);
  const hs = rd.hardState === null ? '' : `hard state (${rd.hardState.term}, ${rd.hardState.vote ?? '-'}, ${rd.hardState.commit}), `;
  const snap = rd.snapshot === null ? '' : `snapshot (${rd.snapshot.meta.index}, ${rd.snapshot.meta.term}), `;
  return `${hs}${snap}entries ${range(rd.entries)}, apply ${range(rd.committedEntries)}, ${rd.messages.length} messages`;
}
