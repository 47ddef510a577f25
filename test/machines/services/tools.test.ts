/**
 * Tool execution exactly once, as the replicated machine decides it: a retried request answers
 * the stored call and never starts a second execution; a start is fenced by term (a deposed
 * leader's start is refused, a takeover start needs a later term and an idempotent tool); only
 * the current holder's outcome counts (a taken-over holder's late result is refused); the
 * takeover query tells a new leader what to do (start, rerun, mark indeterminate); every
 * accepted transition is in the audit log, which is queryable by tool, key, node, event and
 * time, bounded by count and by age in replicated time, and survives snapshot and restore.
 */
import { describe, expect, it } from 'vitest';
import { CompositeMachine } from '../../../src/machines/services/composite.ts';
import type { AuditPage } from '../../../src/machines/services/tools-audit.ts';
import { ToolsPart, type TakeoverAction, type ToolsResult } from '../../../src/machines/services/tools.ts';
import { Driver } from './harness.ts';

function setup(options: ConstructorParameters<typeof ToolsPart>[0] = {}): { d: Driver; tools: ToolsPart; machine: CompositeMachine } {
  const tools = new ToolsPart(options);
  const machine = new CompositeMachine({ tools });
  return { d: new Driver(machine), tools, machine };
}

const requested = (key: string, extra: object = {}): object => ({ op: 'requested', key, tool: 'send-mail', args: { to: 'ann' }, node: 'n1', term: 1, ...extra });

describe('tools: exactly once', () => {
  it('runs the protocol requested, started, completed and answers a retry with the outcome', () => {
    const { d } = setup();
    expect(d.run<ToolsResult>('tools', requested('k1')).status).toBe('requested');
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k1', node: 'n1', term: 1 }).status).toBe('started');
    const done = d.run<ToolsResult>('tools', { op: 'completed', key: 'k1', node: 'n1', term: 1, result: { id: 7 } });
    expect(done.status).toBe('completed');
    const retry = d.run<ToolsResult>('tools', requested('k1'));
    expect(retry.status).toBe('existing');
    expect(retry.call).toMatchObject({ state: 'completed', result: { id: 7 }, starts: 1 });
    // The retry changed nothing: no second start is possible.
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k1', node: 'n1', term: 1 })).toMatchObject({ status: 'refused', code: 'ALREADY_FINISHED' });
  });

  it('answers a retry of a call in flight with its state, and refuses a key reused for another tool', () => {
    const { d } = setup();
    d.run('tools', requested('k1'));
    d.run('tools', { op: 'started', key: 'k1', node: 'n1', term: 1 });
    expect(d.run<ToolsResult>('tools', requested('k1'))).toMatchObject({ status: 'existing', call: { state: 'started' } });
    expect(d.run<ToolsResult>('tools', requested('k1', { tool: 'other' }))).toMatchObject({ status: 'refused', code: 'KEY_CONFLICT' });
  });

  it('fences starts by term: before the requesting term, a deposed leader, a second start in the same term', () => {
    const { d } = setup();
    d.term = 3;
    d.run('tools', requested('k', { term: 3 }));
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k', node: 'old', term: 2 })).toMatchObject({ code: 'STALE_TERM' });
    d.term = 4;
    d.run('tools', requested('other', { term: 4 }));
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k', node: 'n3', term: 3 })).toMatchObject({ code: 'STALE_TERM' });
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k', node: 'n4', term: 4 }).status).toBe('started');
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k', node: 'n5', term: 4 })).toMatchObject({ code: 'FENCED' });
    // A command cannot claim a term after its entry's.
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'other', node: 'n5', term: 9 })).toMatchObject({ code: 'BAD_TERM' });
  });

  it('takeover: a non-idempotent call is marked indeterminate, never started again; the old holder is refused', () => {
    const { d, tools } = setup();
    d.run('tools', requested('k'));
    d.run('tools', { op: 'started', key: 'k', node: 'n1', term: 1 });
    d.term = 2;
    const plan = tools.query({ q: 'takeover' }) as readonly TakeoverAction[];
    expect(plan.map((a) => [a.key, a.action])).toEqual([['k', 'mark-indeterminate']]);
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k', node: 'n2', term: 2 })).toMatchObject({ code: 'NOT_IDEMPOTENT' });
    expect(d.run<ToolsResult>('tools', { op: 'indeterminate', key: 'k', node: 'n2', term: 2 }).status).toBe('indeterminate');
    expect(d.run<ToolsResult>('tools', { op: 'completed', key: 'k', node: 'n1', term: 1, result: 1 })).toMatchObject({ code: 'ALREADY_FINISHED', call: { state: 'indeterminate' } });
    expect(tools.query({ q: 'takeover' })).toEqual([]);
  });

  it('takeover: an idempotent call is started again in the new term and the old holder`s late result is FENCED', () => {
    const { d, tools } = setup();
    d.run('tools', requested('k', { idempotent: true }));
    d.run('tools', { op: 'started', key: 'k', node: 'n1', term: 1 });
    d.term = 2;
    expect((tools.query({ q: 'takeover' }) as readonly TakeoverAction[])[0]?.action).toBe('rerun');
    expect(d.run<ToolsResult>('tools', { op: 'started', key: 'k', node: 'n2', term: 2 })).toMatchObject({ status: 'started', call: { starts: 2, holder: { node: 'n2', term: 2 } } });
    expect(d.run<ToolsResult>('tools', { op: 'completed', key: 'k', node: 'n1', term: 1, result: 'late' })).toMatchObject({ status: 'refused', code: 'FENCED' });
    expect(d.run<ToolsResult>('tools', { op: 'completed', key: 'k', node: 'n2', term: 2, result: 'ok' })).toMatchObject({ status: 'completed', call: { result: 'ok' } });
  });

  it('takeover lists requested-but-not-started calls as start; failed is an outcome too', () => {
    const { d, tools } = setup();
    d.run('tools', requested('a'));
    expect((tools.query({ q: 'takeover' }) as readonly TakeoverAction[])[0]?.action).toBe('start');
    d.run('tools', { op: 'started', key: 'a', node: 'n1', term: 1 });
    expect(d.run<ToolsResult>('tools', { op: 'failed', key: 'a', node: 'n1', term: 1, error: 'smtp down' })).toMatchObject({ status: 'failed', call: { error: 'smtp down' } });
    expect(d.run<ToolsResult>('tools', { op: 'completed', key: 'nope', node: 'n1', term: 1 })).toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('keeps at most toolCallsMax calls: the oldest finished leaves, and all in flight refuses FULL', () => {
    const { d, tools } = setup({ toolCallsMax: 2 });
    d.run('tools', requested('a'));
    d.run('tools', { op: 'started', key: 'a', node: 'n1', term: 1 });
    d.run('tools', { op: 'completed', key: 'a', node: 'n1', term: 1 });
    d.run('tools', requested('b'));
    expect(d.run<ToolsResult>('tools', requested('c')).status).toBe('requested');
    expect(tools.call('a')).toBeNull();
    expect(d.run<ToolsResult>('tools', requested('d'))).toMatchObject({ status: 'refused', code: 'FULL' });
  });
});

describe('tools: audit log', () => {
  function busy(): ReturnType<typeof setup> {
    const s = setup({ auditRecordsMax: 100, auditRetentionMs: 10_000 });
    const { d } = s;
    d.time(1_000);
    d.run('tools', requested('a', { node: 'caller' }));
    d.run('tools', { op: 'started', key: 'a', node: 'n1', term: 1 });
    d.time(2_000);
    d.run('tools', { op: 'completed', key: 'a', node: 'n1', term: 1 });
    d.run('tools', requested('b', { tool: 'charge' }));
    d.run('tools', { op: 'started', key: 'b', node: 'n1', term: 1 });
    d.time(3_000);
    d.run('tools', { op: 'failed', key: 'b', node: 'n1', term: 1, error: 'declined' });
    return s;
  }

  it('records every transition with term, index, node and time, and answers filtered queries', () => {
    const { tools } = busy();
    const all = (tools.query({ q: 'audit' }) as AuditPage).records;
    expect(all.map((r) => `${r.key}:${r.event}@${r.timeMs}`)).toEqual(['a:requested@1000', 'a:started@1000', 'a:completed@2000', 'b:requested@2000', 'b:started@2000', 'b:failed@3000']);
    expect(all[0]).toMatchObject({ seq: 1, term: 1, node: 'caller', index: 2 });
    const q = (filter: object): string[] => (tools.query({ q: 'audit', ...filter }) as AuditPage).records.map((r) => `${r.key}:${r.event}`);
    expect(q({ tool: 'charge' })).toEqual(['b:requested', 'b:started', 'b:failed']);
    expect(q({ key: 'a', event: 'completed' })).toEqual(['a:completed']);
    expect(q({ node: 'caller' })).toEqual(['a:requested']);
    expect(q({ fromMs: 2_000, toMs: 2_000 })).toEqual(['a:completed', 'b:requested', 'b:started']);
    expect(q({ event: 'failed' })).toEqual(['b:failed']);
  });

  it('pages by sequence number', () => {
    const { tools } = busy();
    const first = tools.query({ q: 'audit', limit: 4 }) as AuditPage;
    expect(first.records).toHaveLength(4);
    const second = tools.query({ q: 'audit', limit: 4, afterSeq: first.nextAfterSeq }) as AuditPage;
    expect(second.records.map((r) => r.seq)).toEqual([5, 6]);
    expect(second.nextAfterSeq).toBeNull();
  });

  it('drops the oldest records beyond the count, and those older than the age when time advances', () => {
    const { d, tools } = setup({ auditRecordsMax: 3, auditRetentionMs: 5_000 });
    d.time(1_000);
    for (const key of ['a', 'b', 'c', 'd']) d.run('tools', requested(key));
    expect(tools.auditRecords().map((r) => r.key)).toEqual(['b', 'c', 'd']);
    d.time(4_000);
    d.run('tools', requested('e'));
    d.time(6_500);
    expect(tools.auditRecords().map((r) => r.key)).toEqual(['e']);
    expect((tools.query({ q: 'audit' }) as AuditPage).firstSeq).toBe(5);
  });

  it('survives snapshot and restore: calls, fencing term, audit and retention position', () => {
    const { machine, d } = busy();
    d.run('tools', requested('c', { idempotent: true }));
    d.run('tools', { op: 'started', key: 'c', node: 'n1', term: 1 });
    const bytes = machine.snapshot();
    const copy = setup({ auditRecordsMax: 100, auditRetentionMs: 10_000 });
    copy.machine.restore(bytes);
    expect(copy.machine.snapshot()).toEqual(bytes);
    expect(copy.tools.auditRecords()).toEqual(d.machine.part<ToolsPart>('tools')?.auditRecords());
    copy.d.index = d.index;
    copy.d.term = 2;
    expect((copy.tools.takeover()[0] as TakeoverAction).action).toBe('rerun');
    expect(copy.d.run<ToolsResult>('tools', requested('a'))).toMatchObject({ status: 'existing', call: { state: 'completed' } });
    expect(copy.d.run<ToolsResult>('tools', { op: 'started', key: 'c', node: 'n1', term: 1 })).toMatchObject({ code: 'STALE_TERM' });
  });
});
