/**
 * Change feeds (issue 14 item 5): what a `watch(query, listener)` can name, which applied
 * changes concern it, and the answer it fires with.
 *
 * The machine reports, per applied command, what it changed (src/machines/services/part.ts
 * `Change`); a watch fires once per applied command that reported a change it matches, with
 * the answer read from the local replica just after that command: in log order, on every
 * replica, and never by re-reading everything after every commit. An `overflow` change (a
 * command that changed more than it may report) and a snapshot install (`reset`) match every
 * watch of the service: the answer is read again.
 */
import type { CompositeMachine } from '../machines/services/composite.ts';
import type { Change } from '../machines/services/part.ts';

export type WatchQuery =
  /** A key-value key: its value (null when absent). */
  | { readonly kind: 'key'; readonly key: string }
  /** Every key-value key starting with `prefix`: the changed key and its value. */
  | { readonly kind: 'prefix'; readonly prefix: string }
  /** The board: its view. */
  | { readonly kind: 'board' }
  /** The audit log (optionally of one tool or key): the records appended. */
  | { readonly kind: 'audit'; readonly tool?: string; readonly key?: string }
  /** One tool call by key: the call. */
  | { readonly kind: 'tool-call'; readonly key: string }
  /** One task by id: the task. */
  | { readonly kind: 'task'; readonly id: string }
  /** One agent by id: the agent (null once gone). */
  | { readonly kind: 'agent'; readonly id: string }
  /** One configuration key: `{ key, version, value }` (null when never set). */
  | { readonly kind: 'config'; readonly key: string }
  /** One lock: its hold (null when free). */
  | { readonly kind: 'lock'; readonly name: string }
  /** One app role: its holder (null when vacant). */
  | { readonly kind: 'role'; readonly role: string };

export const watchKinds = ['key', 'prefix', 'board', 'audit', 'tool-call', 'task', 'agent', 'config', 'lock', 'role'] as const;

const serviceOf: Readonly<Record<WatchQuery['kind'], string>> = {
  key: 'kv',
  prefix: 'kv',
  board: 'board',
  audit: 'tools',
  'tool-call': 'tools',
  task: 'agents',
  agent: 'agents',
  config: 'config',
  lock: 'locks',
  role: 'locks',
};

/** A query from the page (structured-clonable, untrusted shape): the query, or why not. */
export function checkWatchQuery(q: unknown): WatchQuery | string {
  if (typeof q !== 'object' || q === null) return 'a watch query is an object with a kind';
  const o = q as Record<string, unknown>;
  const str = (name: string): boolean => typeof o[name] === 'string' && (o[name] as string).length <= 256;
  const optStr = (name: string): boolean => o[name] === undefined || str(name);
  switch (o.kind) {
    case 'board':
      return { kind: 'board' };
    case 'key':
      return str('key') ? { kind: 'key', key: o.key as string } : 'a key watch names a string key';
    case 'prefix':
      return str('prefix') ? { kind: 'prefix', prefix: o.prefix as string } : 'a prefix watch names a string prefix';
    case 'audit':
      if (!optStr('tool') || !optStr('key')) return 'an audit watch may name a tool and a key (strings)';
      return { kind: 'audit', ...(o.tool === undefined ? {} : { tool: o.tool as string }), ...(o.key === undefined ? {} : { key: o.key as string }) };
    case 'tool-call':
    case 'config':
      return str('key') ? { kind: o.kind, key: o.key as string } : `a ${o.kind} watch names a string key`;
    case 'task':
    case 'agent':
      return str('id') ? { kind: o.kind, id: o.id as string } : `a ${o.kind} watch names a string id`;
    case 'lock':
      return str('name') ? { kind: 'lock', name: o.name as string } : 'a lock watch names a string name';
    case 'role':
      return str('role') ? { kind: 'role', role: o.role as string } : 'a role watch names a string role';
    default:
      return `unknown watch kind ${JSON.stringify(o.kind)} (one of ${watchKinds.join(', ')})`;
  }
}

/** Whether `change` (or a reset of the whole state, `null`) concerns `q`. */
export function watchMatches(q: WatchQuery, change: Change | null): boolean {
  if (change === null) return true;
  if (change.service !== serviceOf[q.kind]) return false;
  if (change.kind === 'overflow') return true;
  switch (q.kind) {
    case 'key':
      return change.kind === 'key' && change.key === q.key;
    case 'prefix':
      return change.kind === 'key' && change.key.startsWith(q.prefix);
    case 'board':
      return change.kind === 'board';
    case 'audit':
      return change.kind === 'audit' && (q.tool === undefined || change.tool === q.tool) && (q.key === undefined || change.key === q.key);
    case 'tool-call':
      return change.kind === 'tool-call' && change.key === q.key;
    case 'task':
      return change.kind === 'task' && change.id === q.id;
    case 'agent':
      return change.kind === 'agent' && change.id === q.id;
    case 'config':
      return change.kind === 'config' && change.key === q.key;
    case 'lock':
      return change.kind === 'lock' && change.name === q.name;
    case 'role':
      return change.kind === 'role' && change.role === q.role;
    default: {
      const never: never = q;
      return never;
    }
  }
}

/** The answer `q` fires with after `change` (null: after a reset). Read from the local replica. */
export function watchAnswer(q: WatchQuery, change: Change | null, machine: CompositeMachine): unknown {
  const read = (service: string, query: unknown): unknown => machine.query({ service, query });
  switch (q.kind) {
    case 'key':
      return read('kv', q.key);
    case 'prefix':
      return change !== null && change.kind === 'key' ? { key: change.key, value: read('kv', change.key) } : null;
    case 'board':
      return read('board', null);
    case 'audit': {
      const filter = { ...(q.tool === undefined ? {} : { tool: q.tool }), ...(q.key === undefined ? {} : { key: q.key }) };
      if (change === null || change.kind !== 'audit') return read('tools', { q: 'audit', ...filter });
      return read('tools', { q: 'audit', ...filter, afterSeq: change.seq - 1, limit: 1 });
    }
    case 'tool-call':
      return read('tools', { q: 'call', key: q.key });
    case 'task':
      return read('agents', { q: 'task', id: q.id });
    case 'agent':
      return read('agents', { q: 'agent', id: q.id });
    case 'config':
      return read('config', { q: 'get', key: q.key });
    case 'lock':
      return read('locks', { q: 'lock', name: q.name });
    case 'role':
      return read('locks', { q: 'role', role: q.role });
    default: {
      const never: never = q;
      return never;
    }
  }
}
