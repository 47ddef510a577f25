/**
 * How the interaction harness (harness.ts) prints what it sees: messages, entries, runs of
 * entries, configurations, and the state machine's snapshot bytes and digest. Every line of a
 * golden transcript that shows a message or an entry comes from here, so a change to these
 * functions is a change to every golden file.
 */
import type { Message } from '../../src/core/raft/messages.ts';
import type { ConfState, Entry, NodeId } from '../../src/core/raft/types.ts';
import { decodeSessionCommand, sessionCommandVersion } from '../../src/machines/sessions.ts';

export const textDecoder = new TextDecoder();
export const textEncoder = new TextEncoder();

/** Node ids in numeric order (the harness visits nodes and queues in this order). */
export function sortIds(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
}

export function entryText(e: Entry): string {
  if (e.kind === 'empty') return 'empty';
  if (e.kind === 'normal' && e.data[0] === sessionCommandVersion) {
    const c = decodeSessionCommand(e.data);
    if (!c.ok) return 'session ?';
    if (c.value.type === 'register') return 'register';
    return `session c=${c.value.clientId} s=${c.value.seq} ${JSON.stringify(textDecoder.decode(c.value.payload))}`;
  }
  if (e.kind === 'config') return `config ${e.config === undefined ? '?' : formatConf(e.config)}`;
  return JSON.stringify(textDecoder.decode(e.data));
}

/** `voters=[1 2 3] learners=[4]` */
export function formatConf(c: ConfState): string {
  return `voters=[${sortIds(c.voters).join(' ')}] learners=[${sortIds(c.learners).join(' ')}]`;
}

/** The state machine's snapshot bytes: one command per line. */
export function encodeCommands(commands: readonly string[]): Uint8Array {
  return textEncoder.encode(commands.map((c) => `${c}\n`).join(''));
}

/** FNV-1a (32 bits), to compare state machines at a glance. */
export function digest(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Entries as runs of one term: `[2..61@1]`, `[2@1, 3..5@2]`. */
export function formatEntries(entries: readonly Entry[]): string {
  const runs: string[] = [];
  let i = 0;
  while (i < entries.length) {
    const first = entries[i] as Entry;
    let j = i;
    while (j + 1 < entries.length && (entries[j + 1] as Entry).term === first.term) j++;
    const last = entries[j] as Entry;
    runs.push(first.index === last.index ? `${first.index}@${first.term}` : `${first.index}..${last.index}@${first.term}`);
    i = j + 1;
  }
  return `[${runs.join(', ')}]`;
}

export function formatApplied(entries: readonly Entry[]): string {
  const each = (e: Entry): string => `${e.index}@${e.term} ${entryText(e)}`;
  if (entries.length <= 5) return entries.map(each).join(', ');
  return `${entries.length} entries: ${each(entries[0] as Entry)} .. ${each(entries[entries.length - 1] as Entry)}`;
}

export function rangeOf(entries: readonly Entry[]): string {
  if (entries.length === 0) return 'none';
  return formatEntries(entries);
}

/** One message on one line: `1->2 vote term=2 last=(5,1)`. */
export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type}`;
  switch (m.type) {
    case 'append': {
      const entries = m.entries.length > 0 ? ` entries=${formatEntries(m.entries)}` : '';
      return `${head} term=${m.term} prev=(${m.prevIndex},${m.prevTerm})${entries} commit=${m.commit}`;
    }
    case 'append-response':
      return m.reject
        ? `${head} term=${m.term} REJECT index=${m.index} hint=(${m.hintIndex},${m.hintTerm})`
        : `${head} term=${m.term} index=${m.index}`;
    case 'heartbeat':
      return `${head} term=${m.term} commit=${m.commit} round=${m.round}`;
    case 'heartbeat-response':
      return `${head} term=${m.term} round=${m.round}`;
    case 'vote':
    case 'pre-vote':
      return `${head} term=${m.term} last=(${m.lastIndex},${m.lastTerm})${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
    case 'pre-vote-response':
      return `${head} term=${m.term} ${m.reject ? 'REJECT' : 'granted'}`;
    case 'timeout-now':
      return `${head} term=${m.term}`;
    case 'propose':
      return `${head} ${m.data.map((d) => JSON.stringify(textDecoder.decode(d))).join(' ')}`;
    case 'read-index':
      return `${head} id=${m.requestId}${m.lease ? ' lease' : ''}`;
    case 'read-index-response':
      return `${head} id=${m.requestId} ${m.index < 0 ? 'DROPPED' : `index=${m.index}`}`;
    case 'transfer-leader':
      return `${head} to=${m.transferee}`;
    case 'join':
      return `${head} node=${m.node}`;
    case 'snapshot':
      return `${head} term=${m.term} snap=${m.meta.index}@${m.meta.term} offset=${m.offset} bytes=${m.data.byteLength}${m.done ? ' done' : ''} commit=${m.commit}`;
    case 'snapshot-response':
      return `${head} term=${m.term} index=${m.index} received=${m.received}${m.done ? ' done' : ''}`;
    default: {
      const never: never = m;
      return never;
    }
  }
}
