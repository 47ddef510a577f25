/**
 * Tool execution exactly once (issue 14 item 1), as a replicated state machine: the machine
 * does not run tools, it decides WHO may run a call and WHICH outcome counts, so that no
 * non-idempotent tool runs twice for one key whatever leaders crash, and every caller gets the
 * committed outcome.
 *
 * The protocol, per call key (the caller's idempotency key):
 *   1. `requested {key, tool, args, node, term, idempotent}` (node: the caller's node). A key
 *      seen before answers the stored call (its state or outcome) and changes nothing: a retry
 *      never starts a second execution.
 *   2. `started {key, node, term}`: the leader that will run the handler claims the call. It
 *      runs the handler only after this command is COMMITTED and accepted. Fencing: refused
 *      when `term` is below the term that requested it, below the highest term this machine has
 *      seen (a deposed leader), or when another start holds the call (a takeover start must be
 *      in a higher term, and only for an idempotent tool).
 *   3. `completed {key, node, term, result}` / `failed {key, node, term, error}`: accepted only
 *      from the current holder (the node and term of the accepted start). A result from a
 *      holder that was since taken over is refused (`FENCED`): the caller sees one outcome.
 *      A holder deposed but NOT yet taken over may still report: the tool ran once under its
 *      start, and its true outcome is better than `indeterminate`.
 *   4. `indeterminate {key, node, term}`: a new leader, finding a call started and without
 *      outcome, marks it so when the tool is not idempotent (its term must be at least the
 *      holder's): the caller learns the tool may or may not have run, and it is never run again.
 *
 * What a new leader must do on takeover is a query (`takeover`): calls requested but not
 * started (start them), started without outcome (idempotent: start again, which fences the old
 * holder; otherwise mark indeterminate).
 *
 * Every accepted transition appends an audit record (./tools-audit.ts). Finished calls are kept
 * for retries up to `toolCallsMax` calls in all, the oldest finished leaving first; a retry of a
 * key that left is a new call (like an expired client session, Raft dissertation §6.3). When
 * every kept call is in flight, a new request is refused `FULL`.
 */
import { assert } from '../../core/assert.ts';
import { Fields, MalformedCommandError, opOf } from './fields.ts';
import type { ApplyContext } from './part.ts';
import { AuditLog, parseAuditQuery, type AuditPage, type AuditRecord, type AuditRetention } from './tools-audit.ts';
import { refuse, ValuePart, type Refusal } from './value-part.ts';
import type { Value } from './value.ts';

export const toolKeyCharsMax = 256;
export const toolNameCharsMax = 128;
export const toolNodeCharsMax = 128;
export const toolErrorCharsMax = 4096;
/** A takeover answer lists at most this many calls (the leader asks again after acting). */
export const toolTakeoverListMax = 1000;

export interface ToolsOptions extends AuditRetention {
  /** Calls kept (in flight and finished) at most. */
  readonly toolCallsMax: number;
}

export const toolsDefaults: ToolsOptions = { toolCallsMax: 10_000, auditRecordsMax: 10_000, auditRetentionMs: null };

export type ToolCallState = 'requested' | 'started' | 'completed' | 'failed' | 'indeterminate';

export interface ToolHolder {
  readonly node: string;
  readonly term: number;
  readonly index: number;
}

/** A call as the machine keeps it and answers it. */
export interface ToolCall {
  readonly key: string;
  readonly tool: string;
  readonly args: Value;
  readonly idempotent: boolean;
  readonly requestedBy: string;
  readonly requestedTerm: number;
  readonly requestedIndex: number;
  readonly requestedTimeMs: number;
  readonly state: ToolCallState;
  /** The accepted start that holds the call (null before any). */
  readonly holder: ToolHolder | null;
  /** Accepted starts (more than one only for an idempotent tool taken over). */
  readonly starts: number;
  readonly result: Value;
  readonly error: string | null;
  readonly finishedIndex: number | null;
}

export type ToolsCommand =
  | { readonly op: 'requested'; readonly key: string; readonly tool: string; readonly args: Value; readonly node: string; readonly term: number; readonly idempotent: boolean }
  | { readonly op: 'started'; readonly key: string; readonly node: string; readonly term: number }
  | { readonly op: 'completed'; readonly key: string; readonly node: string; readonly term: number; readonly result: Value }
  | { readonly op: 'failed'; readonly key: string; readonly node: string; readonly term: number; readonly error: string }
  | { readonly op: 'indeterminate'; readonly key: string; readonly node: string; readonly term: number };

export type ToolsRefusalCode = 'FULL' | 'UNKNOWN_KEY' | 'KEY_CONFLICT' | 'STALE_TERM' | 'BAD_TERM' | 'FENCED' | 'NOT_IDEMPOTENT' | 'NOT_STARTED' | 'ALREADY_FINISHED';

export type ToolsResult =
  | { readonly status: 'requested' | 'existing' | 'started' | 'completed' | 'failed' | 'indeterminate'; readonly call: ToolCall }
  | (Refusal<ToolsRefusalCode> & { readonly call: ToolCall | null });

/** What a new leader must do with one call (query `takeover`). */
export interface TakeoverAction {
  readonly key: string;
  readonly tool: string;
  readonly action: 'start' | 'rerun' | 'mark-indeterminate';
  readonly call: ToolCall;
}

export type ToolsQuery =
  | { readonly q: 'call'; readonly key: string }
  | { readonly q: 'takeover' }
  | ({ readonly q: 'audit' } & Parameters<AuditLog['query']>[0]);

const ops = ['requested', 'started', 'completed', 'failed', 'indeterminate'] as const;
const termMax = Number.MAX_SAFE_INTEGER;

export function parseToolsCommand(value: Value): ToolsCommand {
  const { op, fields: f } = opOf(value, ops, 'a tools command');
  const key = f.string('key', toolKeyCharsMax);
  let command: ToolsCommand;
  if (op === 'requested') {
    const tool = f.string('tool', toolNameCharsMax);
    const args = f.optionalValue('args') ?? null;
    command = { op, key, tool, args, node: f.string('node', toolNodeCharsMax), term: f.int('term', 0, termMax), idempotent: f.optionalBoolean('idempotent', false) };
  } else {
    const node = f.string('node', toolNodeCharsMax);
    const term = f.int('term', 0, termMax);
    if (op === 'completed') command = { op, key, node, term, result: f.optionalValue('result') ?? null };
    else if (op === 'failed') command = { op, key, node, term, error: f.string('error', toolErrorCharsMax, 0) };
    else command = { op, key, node, term };
  }
  f.done();
  return command;
}

export class ToolsPart extends ValuePart<ToolsCommand, ToolsResult> {
  private readonly options: ToolsOptions;
  /** Insertion order = request order. */
  private calls = new Map<string, ToolCall>();
  /** Keys of finished calls in finishing order: the eviction order. */
  private finished = new Set<string>();
  /** Keys of calls without an outcome, in request order (the takeover list). */
  private inFlight = new Set<string>();
  /** The highest term any accepted command or entry has shown: starts below it are deposed. */
  private termSeen = 0;
  private audit: AuditLog;

  constructor(options: Partial<ToolsOptions> = {}) {
    super();
    this.options = { ...toolsDefaults, ...options };
    assert(Number.isSafeInteger(this.options.toolCallsMax) && this.options.toolCallsMax > 0, 'toolCallsMax > 0');
    this.audit = new AuditLog(this.options);
  }

  protected parse(value: Value): ToolsCommand {
    return parseToolsCommand(value);
  }

  protected run(c: ToolsCommand, ctx: ApplyContext): ToolsResult {
    // A command cannot claim a term later than the one it was ordered in (when the host says).
    if (ctx.term > 0 && c.term > ctx.term) return { ...refuse('BAD_TERM', `term ${c.term} is after the entry's term ${ctx.term}`), call: this.calls.get(c.key) ?? null };
    if (ctx.term > this.termSeen) this.termSeen = ctx.term;
    if (c.op === 'requested') return this.request(c, ctx);
    const call = this.calls.get(c.key);
    if (call === undefined) return { ...refuse('UNKNOWN_KEY', `no call ${c.key}`), call: null };
    if (c.op === 'started') return this.start(call, c, ctx);
    if (call.state === 'completed' || call.state === 'failed' || call.state === 'indeterminate') {
      return { ...refuse('ALREADY_FINISHED', `call ${c.key} is ${call.state}`), call };
    }
    if (call.state === 'requested' || call.holder === null) return { ...refuse('NOT_STARTED', `call ${c.key} was not started`), call };
    if (c.op === 'indeterminate') {
      if (c.term < call.holder.term) return { ...refuse('STALE_TERM', `term ${c.term} is before the holder's ${call.holder.term}`), call };
      return this.finish(call, c, ctx, { state: 'indeterminate', result: null, error: null });
    }
    if (c.node !== call.holder.node || c.term !== call.holder.term) {
      return { ...refuse('FENCED', `${c.node} in term ${c.term} does not hold call ${c.key} (${call.holder.node} in term ${call.holder.term} does)`), call };
    }
    if (c.op === 'completed') return this.finish(call, c, ctx, { state: 'completed', result: c.result, error: null });
    return this.finish(call, c, ctx, { state: 'failed', result: null, error: c.error });
  }

  private request(c: Extract<ToolsCommand, { op: 'requested' }>, ctx: ApplyContext): ToolsResult {
    const existing = this.calls.get(c.key);
    if (existing !== undefined) {
      if (existing.tool !== c.tool) return { ...refuse('KEY_CONFLICT', `key ${c.key} belongs to a call of ${existing.tool}`), call: existing };
      return { status: 'existing', call: existing };
    }
    if (this.calls.size >= this.options.toolCallsMax) {
      const oldest = this.finished.values().next();
      if (oldest.done === true) return { ...refuse('FULL', `${this.calls.size} calls in flight`), call: null };
      this.finished.delete(oldest.value);
      this.calls.delete(oldest.value);
    }
    if (c.term > this.termSeen) this.termSeen = c.term;
    const call: ToolCall = {
      key: c.key,
      tool: c.tool,
      args: c.args,
      idempotent: c.idempotent,
      requestedBy: c.node,
      requestedTerm: c.term,
      requestedIndex: ctx.index,
      requestedTimeMs: ctx.timeMs,
      state: 'requested',
      holder: null,
      starts: 0,
      result: null,
      error: null,
      finishedIndex: null,
    };
    this.calls.set(c.key, call);
    this.inFlight.add(c.key);
    this.record(call, c.node, c.term, ctx);
    return { status: 'requested', call };
  }

  private start(call: ToolCall, c: Extract<ToolsCommand, { op: 'started' }>, ctx: ApplyContext): ToolsResult {
    if (call.state !== 'requested' && call.state !== 'started') return { ...refuse('ALREADY_FINISHED', `call ${c.key} is ${call.state}`), call };
    if (c.term < call.requestedTerm) return { ...refuse('STALE_TERM', `term ${c.term} is before the requesting term ${call.requestedTerm}`), call };
    if (c.term < this.termSeen) return { ...refuse('STALE_TERM', `term ${c.term} is before term ${this.termSeen}: a deposed leader`), call };
    if (call.holder !== null) {
      // A takeover: only in a later term, and only for a tool that may run twice.
      if (c.term <= call.holder.term) return { ...refuse('FENCED', `call ${c.key} is held by ${call.holder.node} in term ${call.holder.term}`), call };
      if (!call.idempotent) return { ...refuse('NOT_IDEMPOTENT', `call ${c.key} of ${call.tool} started once and may not run again`), call };
    }
    this.termSeen = Math.max(this.termSeen, c.term);
    const next: ToolCall = { ...call, state: 'started', holder: { node: c.node, term: c.term, index: ctx.index }, starts: call.starts + 1 };
    this.calls.set(c.key, next);
    this.record(next, c.node, c.term, ctx);
    return { status: 'started', call: next };
  }

  private finish(call: ToolCall, c: ToolsCommand, ctx: ApplyContext, outcome: { state: 'completed' | 'failed' | 'indeterminate'; result: Value; error: string | null }): ToolsResult {
    this.termSeen = Math.max(this.termSeen, c.term);
    const next: ToolCall = { ...call, state: outcome.state, result: outcome.result, error: outcome.error, finishedIndex: ctx.index };
    this.calls.set(c.key, next);
    this.inFlight.delete(c.key);
    this.finished.add(c.key);
    this.record(next, c.node, c.term, ctx);
    return { status: outcome.state, call: next };
  }

  private record(call: ToolCall, node: string, term: number, ctx: ApplyContext): void {
    const rec = this.audit.append({ index: ctx.index, term, timeMs: ctx.timeMs, node, key: call.key, tool: call.tool, event: call.state });
    ctx.report({ kind: 'tool-call', key: call.key, tool: call.tool, state: call.state });
    ctx.report({ kind: 'audit', seq: rec.seq, tool: rec.tool, key: rec.key });
  }

  advanceTime(ctx: ApplyContext): void {
    this.audit.expire(ctx.timeMs);
  }

  /** Local reads: `{q:'call', key}`, `{q:'takeover'}`, `{q:'audit', ...filter}`. */
  query(query: unknown): ToolCall | null | readonly TakeoverAction[] | AuditPage {
    const { op, fields: f } = opOf(query as Value, ['call', 'takeover', 'audit'] as const, 'a tools query', 'q');
    if (op === 'call') {
      const key = f.string('key', toolKeyCharsMax);
      f.done();
      return this.calls.get(key) ?? null;
    }
    if (op === 'takeover') {
      f.done();
      return this.takeover();
    }
    const q = parseAuditQuery(f);
    f.done();
    return this.audit.query(q);
  }

  call(key: string): ToolCall | null {
    return this.calls.get(key) ?? null;
  }

  auditRecords(q: Parameters<AuditLog['query']>[0] = {}): readonly AuditRecord[] {
    return this.audit.query(q).records;
  }

  takeover(): readonly TakeoverAction[] {
    const out: TakeoverAction[] = [];
    for (const key of this.inFlight) {
      if (out.length >= toolTakeoverListMax) break;
      const call = this.calls.get(key) as ToolCall;
      const action = call.state === 'requested' ? 'start' : call.idempotent ? 'rerun' : 'mark-indeterminate';
      out.push({ key, tool: call.tool, action, call });
    }
    return out;
  }

  protected save(): Value {
    return {
      termSeen: this.termSeen,
      calls: [...this.calls.values()] as unknown as Value[],
      finished: [...this.finished],
      audit: this.audit.save(),
    };
  }

  protected load(state: Value): void {
    const f = new Fields(state, 'tools snapshot');
    const termSeen = f.int('termSeen', 0, termMax);
    const rawCalls = f.value('calls');
    const rawFinished = f.value('finished');
    const auditState = f.value('audit');
    f.done();
    if (!Array.isArray(rawCalls) || !Array.isArray(rawFinished)) throw new MalformedCommandError('tools snapshot lists');
    const calls = new Map<string, ToolCall>();
    for (const raw of rawCalls as readonly Value[]) {
      const call = callFromValue(raw);
      calls.set(call.key, call);
    }
    const finished = new Set<string>();
    for (const key of rawFinished as readonly Value[]) {
      if (typeof key !== 'string' || !calls.has(key)) throw new MalformedCommandError('a finished key without its call');
      finished.add(key);
    }
    const audit = new AuditLog(this.options);
    audit.load(auditState);
    this.calls = calls;
    this.finished = finished;
    this.inFlight = new Set([...calls.keys()].filter((k) => !finished.has(k)));
    this.termSeen = termSeen;
    this.audit = audit;
  }
}

const callStates: readonly ToolCallState[] = ['requested', 'started', 'completed', 'failed', 'indeterminate'];

/** A call read back from a snapshot: every field checked (storage and peers are not trusted). */
function callFromValue(raw: Value): ToolCall {
  const f = new Fields(raw, 'a tools snapshot call');
  const holderValue = f.value('holder');
  let holder: ToolHolder | null = null;
  if (holderValue !== null) {
    const h = new Fields(holderValue, 'a call holder');
    holder = { node: h.string('node', toolNodeCharsMax), term: h.int('term', 0, termMax), index: h.int('index', 0, termMax) };
    h.done();
  }
  const finishedIndex = f.value('finishedIndex');
  const error = f.value('error');
  if (!(finishedIndex === null || (typeof finishedIndex === 'number' && Number.isSafeInteger(finishedIndex)))) throw new MalformedCommandError('finishedIndex');
  if (!(error === null || typeof error === 'string')) throw new MalformedCommandError('error');
  const call: ToolCall = {
    key: f.string('key', toolKeyCharsMax),
    tool: f.string('tool', toolNameCharsMax),
    args: f.value('args'),
    idempotent: f.boolean('idempotent'),
    requestedBy: f.string('requestedBy', toolNodeCharsMax),
    requestedTerm: f.int('requestedTerm', 0, termMax),
    requestedIndex: f.int('requestedIndex', 0, termMax),
    requestedTimeMs: f.int('requestedTimeMs', 0, termMax),
    state: f.oneOf('state', callStates),
    holder,
    starts: f.int('starts', 0, termMax),
    result: f.value('result'),
    error,
    finishedIndex,
  };
  f.done();
  return call;
}
