/**
 * The audit log of tool executions: append-only, one record per accepted transition of a tool
 * call (requested, started, completed, failed, indeterminate), each with the position and term
 * of the command that made it, the node it names and the replicated time. A record is never
 * changed; records leave only from the old end, by the retention policy (a count, and an age in
 * replicated time), so every replica drops the same records at the same command. The log is in
 * the tools part's snapshot, so it survives log compaction.
 *
 * Queries filter by tool, key, node, event (outcome) and a time range, and page by sequence
 * number, with a bounded page: a read never copies the whole log.
 */
import { assert } from '../../core/assert.ts';
import { Fields, MalformedCommandError } from './fields.ts';
import type { Value } from './value.ts';

export const auditEvents = ['requested', 'started', 'completed', 'failed', 'indeterminate'] as const;
export type AuditEvent = (typeof auditEvents)[number];

export interface AuditRecord {
  /** 1, 2, 3... in append order; never reused. */
  readonly seq: number;
  readonly index: number;
  readonly term: number;
  readonly timeMs: number;
  /** The node named by the command: the caller's for `requested`, the executor's after. */
  readonly node: string;
  readonly key: string;
  readonly tool: string;
  readonly event: AuditEvent;
}

export interface AuditRetention {
  /** Records kept at most; the oldest leave first. */
  readonly auditRecordsMax: number;
  /** Records older than this (replicated time) leave when time advances; null keeps them by count only. */
  readonly auditRetentionMs: number | null;
}

/** A page of at most this many records per query. */
export const auditQueryLimitMax = 1000;

export interface AuditQuery {
  readonly tool?: string;
  readonly key?: string;
  readonly node?: string;
  readonly event?: AuditEvent;
  /** Records with timeMs >= fromMs. */
  readonly fromMs?: number;
  /** Records with timeMs <= toMs. */
  readonly toMs?: number;
  /** Records after this sequence number (paging). */
  readonly afterSeq?: number;
  readonly limit?: number;
}

export interface AuditPage {
  readonly records: readonly AuditRecord[];
  /** Pass as `afterSeq` for the next page; null when this page reached the end. */
  readonly nextAfterSeq: number | null;
  /** The oldest sequence number still kept (records before it left by retention). */
  readonly firstSeq: number;
}

export class AuditLog {
  private records: AuditRecord[] = [];
  /** Records before this position in `records` have left (compacted lazily). */
  private start = 0;
  private nextSeq = 1;

  constructor(private readonly retention: AuditRetention) {
    assert(Number.isSafeInteger(retention.auditRecordsMax) && retention.auditRecordsMax > 0, 'auditRecordsMax > 0');
    assert(retention.auditRetentionMs === null || (Number.isSafeInteger(retention.auditRetentionMs) && retention.auditRetentionMs > 0), 'auditRetentionMs > 0');
  }

  get size(): number {
    return this.records.length - this.start;
  }

  append(record: Omit<AuditRecord, 'seq'>): AuditRecord {
    const full: AuditRecord = { seq: this.nextSeq++, ...record };
    this.records.push(full);
    if (this.size > this.retention.auditRecordsMax) this.dropFront(this.size - this.retention.auditRecordsMax);
    return full;
  }

  /** Drop records older than the retention age at replicated time `timeMs`. */
  expire(timeMs: number): number {
    if (this.retention.auditRetentionMs === null) return 0;
    const horizon = timeMs - this.retention.auditRetentionMs;
    let n = 0;
    while (this.start + n < this.records.length && (this.records[this.start + n] as AuditRecord).timeMs < horizon) n++;
    this.dropFront(n);
    return n;
  }

  private dropFront(n: number): void {
    this.start += n;
    // Compact when the dead prefix is the larger half: amortised O(1) per record.
    if (this.start > 1024 && this.start * 2 > this.records.length) {
      this.records = this.records.slice(this.start);
      this.start = 0;
    }
  }

  query(q: AuditQuery): AuditPage {
    const limit = Math.min(q.limit ?? 100, auditQueryLimitMax);
    const out: AuditRecord[] = [];
    let i = this.firstAfter(q.afterSeq ?? 0);
    let last: number | null = null;
    for (; i < this.records.length; i++) {
      const r = this.records[i] as AuditRecord;
      if (!matches(r, q)) continue;
      if (out.length === limit) break;
      out.push(r);
      last = r.seq;
    }
    return { records: out, nextAfterSeq: i < this.records.length ? last : null, firstSeq: this.firstSeq() };
  }

  private firstSeq(): number {
    return this.size === 0 ? this.nextSeq : (this.records[this.start] as AuditRecord).seq;
  }

  /** Position of the first record with seq > afterSeq (records are in seq order: binary search). */
  private firstAfter(afterSeq: number): number {
    let lo = this.start;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.records[mid] as AuditRecord).seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  save(): Value {
    const rows: Value[] = [];
    for (let i = this.start; i < this.records.length; i++) {
      const r = this.records[i] as AuditRecord;
      rows.push([r.seq, r.index, r.term, r.timeMs, r.node, r.key, r.tool, auditEvents.indexOf(r.event)]);
    }
    return { nextSeq: this.nextSeq, records: rows };
  }

  load(state: Value): void {
    const f = new Fields(state, 'audit snapshot');
    const nextSeq = f.int('nextSeq', 1, Number.MAX_SAFE_INTEGER);
    const rows = f.value('records');
    f.done();
    if (!Array.isArray(rows)) throw new MalformedCommandError('audit records must be an array');
    const records: AuditRecord[] = [];
    for (const row of rows as readonly Value[]) records.push(recordFromRow(row));
    this.records = records;
    this.start = 0;
    this.nextSeq = nextSeq;
  }
}

function matches(r: AuditRecord, q: AuditQuery): boolean {
  return (
    (q.tool === undefined || r.tool === q.tool) &&
    (q.key === undefined || r.key === q.key) &&
    (q.node === undefined || r.node === q.node) &&
    (q.event === undefined || r.event === q.event) &&
    (q.fromMs === undefined || r.timeMs >= q.fromMs) &&
    (q.toMs === undefined || r.timeMs <= q.toMs)
  );
}

function recordFromRow(row: Value): AuditRecord {
  if (!Array.isArray(row) || row.length !== 8) throw new MalformedCommandError('an audit row has 8 fields');
  const [seq, index, term, timeMs, node, key, tool, event] = row as readonly Value[];
  const ints = [seq, index, term, timeMs];
  if (!ints.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) throw new MalformedCommandError('audit row numbers');
  if (typeof node !== 'string' || typeof key !== 'string' || typeof tool !== 'string') throw new MalformedCommandError('audit row strings');
  const name = typeof event === 'number' ? auditEvents[event] : undefined;
  if (name === undefined) throw new MalformedCommandError('audit row event');
  return { seq: seq as number, index: index as number, term: term as number, timeMs: timeMs as number, node, key, tool, event: name };
}

/** Reads an audit query from an app's (untrusted shape) object. */
export function parseAuditQuery(f: Fields): AuditQuery {
  const q: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = {};
  const tool = f.optionalString('tool', 128);
  const key = f.optionalString('key', 256);
  const node = f.optionalString('node', 128);
  if (tool !== undefined) q.tool = tool;
  if (key !== undefined) q.key = key;
  if (node !== undefined) q.node = node;
  if (f.has('event')) q.event = f.oneOf('event', auditEvents);
  const fromMs = f.optionalInt('fromMs', 0, Number.MAX_SAFE_INTEGER);
  const toMs = f.optionalInt('toMs', 0, Number.MAX_SAFE_INTEGER);
  const afterSeq = f.optionalInt('afterSeq', 0, Number.MAX_SAFE_INTEGER);
  const limit = f.optionalInt('limit', 1, auditQueryLimitMax);
  if (fromMs !== undefined) q.fromMs = fromMs;
  if (toMs !== undefined) q.toMs = toMs;
  if (afterSeq !== undefined) q.afterSeq = afterSeq;
  if (limit !== undefined) q.limit = limit;
  return q;
}
