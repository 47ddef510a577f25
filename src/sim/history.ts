/**
 * A client history of a key-value store, one operation per JSON line.
 *
 * The simulator records it, `linearizability.ts` checks it, and tools outside this repository
 * read it, so the text format is a contract: EXACTLY these keys, in THIS order, one object per
 * line, each line ending in '\n':
 *
 *   {"client":0,"op":"read","key":"k","value":null,"expected":null,"output":"v","ok":true,"call":123,"ret":456}
 *
 * Meaning of the fields per kind (times are virtual microseconds, integers):
 * - read:  `value` null, `expected` null, `output` = the value read (null = key absent).
 * - write: `value` = the new value (null deletes the key), `expected` null, `output` null.
 * - cas:   `expected` = the value required (null = absent), `value` = the new value,
 *          `output` = null or the value observed (informational; the checker ignores it).
 * - `ok` true: it returned and took effect (a cas that swapped). `ok` false with a `ret`: a
 *   definite failure that had NO effect; for a cas that still says "the value was not
 *   `expected`". `ok` and `ret` both null: the outcome is unknown (the client timed out), so
 *   the operation may have taken effect at any time after `call`, or never.
 *
 * Parsing validates every line and throws a `HistoryFormatError` naming the 1-based line
 * number: a history is input from another tool, and a silently misread one would make the
 * checker's verdict worthless.
 */

export type OpKind = 'read' | 'write' | 'cas';

export interface HistoryOp {
  client: number;
  op: OpKind;
  key: string;
  value: string | null;
  expected: string | null;
  output: string | null;
  ok: boolean | null;
  call: number;
  ret: number | null;
}

/** The keys of one line, in the order the format requires. */
export const HISTORY_KEYS = [
  'client',
  'op',
  'key',
  'value',
  'expected',
  'output',
  'ok',
  'call',
  'ret',
] as const satisfies readonly (keyof HistoryOp)[];

const OP_KINDS: readonly string[] = ['read', 'write', 'cas'] satisfies readonly OpKind[];

/** Thrown on a malformed history; `lineNumber` is 1-based, or null for an in-memory op list. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';
  readonly code = 'HISTORY_FORMAT';
  readonly lineNumber: number | null;

  constructor(message: string, lineNumber: number | null) {
    super(message);
    this.lineNumber = lineNumber;
  }
}

/** One line, without the trailing newline. Built field by field so the key order is fixed. */
export function encodeHistoryLine(op: HistoryOp): string {
  return JSON.stringify({
    client: op.client,
    op: op.op,
    key: op.key,
    value: op.value,
    expected: op.expected,
    output: op.output,
    ok: op.ok,
    call: op.call,
    ret: op.ret,
  });
}

/** All lines joined with '\n', with a trailing '\n' (an empty history is the empty string). */
export function encodeHistory(ops: readonly HistoryOp[]): string {
  let text = '';
  for (const op of ops) text += encodeHistoryLine(op) + '\n';
  return text;
}

/**
 * Parses the JSON-lines text. Blank lines (and a '\r' before a '\n') are tolerated because
 * editors and shells add them; anything else that is not exactly one valid operation throws.
 */
export function parseHistory(text: string): HistoryOp[] {
  const lines = text.split('\n');
  const ops: HistoryOp[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const message = `history line ${lineNumber}: not valid JSON (${reason})`;
      throw new HistoryFormatError(message, lineNumber);
    }
    const problem = findHistoryOpProblem(parsed);
    if (problem !== null) {
      throw new HistoryFormatError(`history line ${lineNumber}: ${problem}`, lineNumber);
    }
    ops.push(parsed as HistoryOp);
  }
  return ops;
}

/**
 * Why `value` is not a valid operation, or null if it is. Shared by the parser and by the
 * checker (which also takes in-memory histories), so both accept exactly the same inputs.
 */
export function findHistoryOpProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'expected a JSON object';
  }
  const record = value as Record<string, unknown>;
  for (const key of HISTORY_KEYS) {
    if (!Object.hasOwn(record, key)) return `missing key "${key}"`;
  }
  for (const key of Object.keys(record)) {
    if (!(HISTORY_KEYS as readonly string[]).includes(key)) return `unexpected key "${key}"`;
  }
  return findFieldProblem(record) ?? findSemanticProblem(record as unknown as HistoryOp);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

function findFieldProblem(record: Record<string, unknown>): string | null {
  if (!isNonNegativeInteger(record['client'])) return '"client" must be a non-negative integer';
  if (typeof record['op'] !== 'string' || !OP_KINDS.includes(record['op'])) {
    return '"op" must be "read", "write" or "cas"';
  }
  if (typeof record['key'] !== 'string') return '"key" must be a string';
  for (const field of ['value', 'expected', 'output'] as const) {
    if (!isStringOrNull(record[field])) return `"${field}" must be a string or null`;
  }
  if (record['ok'] !== null && typeof record['ok'] !== 'boolean') {
    return '"ok" must be true, false or null';
  }
  if (!isNonNegativeInteger(record['call'])) return '"call" must be a non-negative integer';
  if (record['ret'] !== null && !isNonNegativeInteger(record['ret'])) {
    return '"ret" must be a non-negative integer or null';
  }
  return null;
}

function findSemanticProblem(op: HistoryOp): string | null {
  if ((op.ret === null) !== (op.ok === null)) {
    return '"ok" and "ret" must both be null (unknown outcome) or both be set';
  }
  if (op.ret !== null && op.ret < op.call) return `"ret" (${op.ret}) is before "call" (${op.call})`;
  switch (op.op) {
    case 'read':
      if (op.value !== null) return 'a read must have "value": null';
      if (op.expected !== null) return 'a read must have "expected": null';
      return null;
    case 'write':
      if (op.expected !== null) return 'a write must have "expected": null';
      if (op.output !== null) return 'a write must have "output": null';
      return null;
    case 'cas':
      return null;
    default: {
      const unreachable: never = op.op;
      return `unknown op ${String(unreachable)}`;
    }
  }
}
