/**
 * The services simulator's checkers (issue 14 item 7). They read the run's history
 * (./services-history.ts: executions recorded as they began on any node, crashed ones
 * included; what callers were answered; what replicas applied) and the FINAL state of the
 * converged cluster (one replica's machine: after convergence every replica's is equal):
 *
 *   duplicateRuns      no non-idempotent tool runs twice for one key (executions per key).
 *   answersUncommitted every call answered carries the committed outcome: the caller's state,
 *                      result and error equal the final machine's for that key.
 *   auditIncomplete    every execution's audit trail is complete: for each key called, the
 *                      records read `requested`, then `started` (one per execution, with the
 *                      executing node and term), then exactly one of completed, failed or
 *                      indeterminate, last, in log order.
 *   taskViolations     no task is held by two agents under valid tokens at once: on every
 *                      replica, in its apply order, a task's assignment tokens strictly
 *                      increase and one token names one agent everywhere; a task is finished
 *                      only by the result of its CURRENT assignment (the result names its
 *                      holder and token); and every task submitted ends done or failed.
 *   configViolations   the configuration versions form one linearizable history: an answered
 *                      CAS to version v holds the value the final history has at v, a CAS
 *                      expecting e got e + 1, no two writes got one version, and real time is
 *                      respected (an operation begun after another returned sees its version or
 *                      a later one).
 *   lockViolations     lock tokens strictly increase: per replica in apply order, per lock; a
 *                      token is granted to one owner; an acquisition begun after another
 *                      returned has a larger token.
 *
 * Each finding is counted once and described (a few kept per checker).
 */
import type { Task } from '../../machines/services/tasks.ts';
import type { ToolCall } from '../../machines/services/tools.ts';
import type { AuditRecord } from '../../machines/services/tools-audit.ts';
import type { ConfigVersion } from '../../machines/services/config.ts';
import { taskResult, toolNames, type ServicesHistory } from './services-history.ts';

export const servicesCheckNames = ['duplicateRuns', 'answersUncommitted', 'auditIncomplete', 'taskViolations', 'configViolations', 'lockViolations'] as const;
export type ServicesCheckName = (typeof servicesCheckNames)[number];

export type ServicesFindings = Record<ServicesCheckName, string[]>;

/** What the checkers read of the converged cluster. */
export interface FinalState {
  call(key: string): ToolCall | null;
  audit(key: string): readonly AuditRecord[];
  task(id: string): Task | null;
  configHistory(key: string): readonly ConfigVersion[];
}

const examplesMax = 5;

export function emptyFindings(): ServicesFindings {
  return { duplicateRuns: [], answersUncommitted: [], auditIncomplete: [], taskViolations: [], configViolations: [], lockViolations: [] };
}

export function checkServices(h: ServicesHistory, final: FinalState | null): ServicesFindings {
  const f = emptyFindings();
  checkDuplicateRuns(h, f);
  checkTasksApplied(h, f);
  checkLocks(h, f);
  if (final !== null) {
    checkAnswers(h, final, f);
    checkAudit(h, final, f);
    checkTasksFinal(h, final, f);
    checkConfig(h, final, f);
  }
  return f;
}

function checkDuplicateRuns(h: ServicesHistory, f: ServicesFindings): void {
  const runs = new Map<string, string[]>();
  for (const e of h.toolExecutions) {
    if (e.tool !== toolNames.once) continue;
    const list = runs.get(e.key) ?? [];
    list.push(`${e.node}@term ${e.term} at ${e.atUs}us`);
    runs.set(e.key, list);
  }
  for (const [key, list] of runs) if (list.length > 1) f.duplicateRuns.push(`${key} (${toolNames.once}) ran ${list.length} times: ${list.join(', ')}`);
}

/** Equal values, whatever the order of their maps' keys (the value codec sorts them). */
function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

function checkAnswers(h: ServicesHistory, final: FinalState, f: ServicesFindings): void {
  for (const a of h.toolAnswers) {
    const c = final.call(a.key);
    if (c === null) f.answersUncommitted.push(`${a.key}: answered ${a.call.state}, but no such call is committed`);
    else if (c.state !== a.call.state || !same(c.result, a.call.result) || c.error !== a.call.error) {
      f.answersUncommitted.push(`${a.key}: answered ${a.call.state} ${JSON.stringify(a.call.result)}, committed ${c.state} ${JSON.stringify(c.result)}${c.error === null ? '' : ` (${c.error})`}`);
    }
  }
}

function checkAudit(h: ServicesHistory, final: FinalState, f: ServicesFindings): void {
  const executions = new Map<string, { node: string; term: number }[]>();
  for (const e of h.toolExecutions) executions.set(e.key, [...(executions.get(e.key) ?? []), { node: e.node, term: e.term }]);
  for (const key of h.toolCalls.keys()) {
    const records = final.audit(key);
    const problem = auditProblem(records, executions.get(key) ?? [], final.call(key));
    if (problem !== null) f.auditIncomplete.push(`${key}: ${problem} [${records.map((r) => `${r.event}@${r.index}`).join(' ')}]`);
  }
}

const finalEvents: ReadonlySet<string> = new Set(['completed', 'failed', 'indeterminate']);

function auditProblem(records: readonly AuditRecord[], executions: readonly { node: string; term: number }[], call: ToolCall | null): string | null {
  // A call never applied (its requests all lost) has no trail and must not have run.
  if (call === null) return records.length === 0 && executions.length === 0 ? null : 'records or executions without a committed call';
  if (records.length === 0) return 'no audit records';
  if (records[0]?.event !== 'requested') return 'the first record is not requested';
  for (let i = 1; i < records.length; i++) if ((records[i] as AuditRecord).index <= (records[i - 1] as AuditRecord).index) return 'records out of log order';
  const finals = records.filter((r) => finalEvents.has(r.event));
  if (finals.length !== 1) return `${finals.length} final records`;
  if (records[records.length - 1] !== finals[0]) return 'the final record is not last';
  const starts = records.filter((r) => r.event === 'started');
  if (finals[0]?.event !== 'failed' && starts.length === 0) return `${finals[0]?.event} without started`;
  if (finals[0]?.event !== call.state) return `the trail ends ${finals[0]?.event}, the call is ${call.state}`;
  for (const e of executions) {
    if (!starts.some((s) => s.node === e.node && s.term === e.term)) return `an execution on ${e.node} in term ${e.term} has no started record`;
  }
  return null;
}

function checkTasksApplied(h: ServicesHistory, f: ServicesFindings): void {
  const holderOf = new Map<string, string>(); // "task#token" -> agent, across replicas
  const lastToken = new Map<string, number>(); // "node/task" -> token of its last assignment
  for (const t of h.tasksApplied) {
    if (f.taskViolations.length >= examplesMax * 4) return;
    const mark = `${t.task}#${t.token}`;
    if (t.state === 'assigned') {
      const agent = t.agent ?? '';
      const other = holderOf.get(mark);
      if (other !== undefined && other !== agent) f.taskViolations.push(`${t.task}: token ${t.token} names ${other} and ${agent}`);
      holderOf.set(mark, agent);
      const last = lastToken.get(`${t.node}/${t.task}`) ?? 0;
      if (t.token < last) f.taskViolations.push(`${t.task} on ${t.node}: assignment token ${t.token} after ${last}`);
      lastToken.set(`${t.node}/${t.task}`, t.token);
      continue;
    }
    if (t.state === 'done' && t.agent !== null && t.result !== taskResult(t.task, t.agent, t.token)) {
      f.taskViolations.push(`${t.task} on ${t.node}: done by ${t.agent} under ${t.token} with the result ${JSON.stringify(t.result)} (another holder's)`);
    }
  }
}

function checkTasksFinal(h: ServicesHistory, final: FinalState, f: ServicesFindings): void {
  for (const id of h.tasksSubmitted) {
    const t = final.task(id);
    if (t === null) f.taskViolations.push(`${id}: submitted, not in the final state`);
    else if (t.state !== 'done' && t.state !== 'failed') f.taskViolations.push(`${id}: ends ${t.state}${t.agent === null ? '' : ` (${t.agent}, token ${t.token})`}`);
  }
}

function checkConfig(h: ServicesHistory, final: FinalState, f: ServicesFindings): void {
  const byKey = new Map<string, typeof h.configOps>();
  for (const op of h.configOps) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  for (const [key, ops] of byKey) {
    const versions = new Map(final.configHistory(key).map((v) => [v.version, v.value] as const));
    const winners = new Map<number, string>();
    for (const op of ops) {
      if (op.outcome.kind !== 'set') continue;
      const v = op.outcome.version;
      if (v !== op.expectedVersion + 1) f.configViolations.push(`${key}: a CAS expecting ${op.expectedVersion} answered version ${v}`);
      const other = winners.get(v);
      if (other !== undefined) f.configViolations.push(`${key}: version ${v} answered to ${other} and ${op.value}`);
      winners.set(v, op.value);
      if (versions.has(v) && versions.get(v) !== op.value) f.configViolations.push(`${key}: ${op.value} answered version ${v}, the history holds ${JSON.stringify(versions.get(v))} there`);
      if (!versions.has(v)) f.configViolations.push(`${key}: ${op.value} answered version ${v}, which the history does not hold`);
    }
    // Real time: an operation called after another returned observes its version or a later one.
    const seen = (op: (typeof ops)[number]): number | null => (op.outcome.kind === 'set' ? op.outcome.version : op.outcome.kind === 'mismatch' ? op.outcome.current : null);
    const done = ops.filter((op) => op.retUs !== null && seen(op) !== null).sort((a, b) => (a.retUs as number) - (b.retUs as number));
    for (const b of ops) {
      const vb = seen(b);
      if (vb === null) continue;
      // The highest version returned before b was called.
      let floor = 0;
      for (const a of done) {
        if ((a.retUs as number) >= b.callUs) break;
        floor = Math.max(floor, seen(a) as number);
      }
      const ok = b.outcome.kind === 'set' ? vb > floor : vb >= floor;
      if (!ok) f.configViolations.push(`${key}: ${b.value} called at ${b.callUs}us saw version ${vb}, but version ${floor} was answered before`);
    }
  }
}

function checkLocks(h: ServicesHistory, f: ServicesFindings): void {
  const last = new Map<string, number>();
  for (const l of h.locksApplied) {
    if (l.token === 0) continue;
    const k = `${l.node}/${l.name}`;
    const prev = last.get(k) ?? 0;
    if (l.token < prev) f.lockViolations.push(`${l.name} on ${l.node}: token ${l.token} applied after ${prev}`);
    last.set(k, l.token);
  }
  const owners = new Map<string, string>();
  const acquired = h.lockOps.filter((o) => o.status === 'acquired');
  for (const o of acquired) {
    const k = `${o.name}#${o.token}`;
    const other = owners.get(k);
    if (other !== undefined && other !== o.owner) f.lockViolations.push(`${o.name}: token ${o.token} granted to ${other} and ${o.owner}`);
    owners.set(k, o.owner);
  }
  const byRet = [...acquired].sort((a, b) => a.retUs - b.retUs);
  for (const b of acquired) {
    let floor = 0;
    let from = '';
    for (const a of byRet) {
      if (a.retUs >= b.callUs) break;
      if (a.name === b.name && a.token > floor) {
        floor = a.token;
        from = a.owner;
      }
    }
    if (b.token <= floor) f.lockViolations.push(`${b.name}: ${b.owner} acquired token ${b.token} at ${b.retUs}us after ${from} had ${floor}`);
  }
}
