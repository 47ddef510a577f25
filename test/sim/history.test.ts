/**
 * The history file format is a contract with tools outside this repository. These tests pin
 * the exact text of a line (key order included), show that encode then parse is the identity
 * for every kind of operation, and show that parseHistory rejects each kind of malformed line
 * with an error that names the 1-based line number, instead of letting the checker judge a
 * misread history.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeHistory,
  encodeHistoryLine,
  HistoryFormatError,
  parseHistory,
} from '../../src/sim/history.ts';
import type { HistoryOp } from '../../src/sim/history.ts';

const read: HistoryOp = {
  client: 0,
  op: 'read',
  key: 'k',
  value: null,
  expected: null,
  output: 'v',
  ok: true,
  call: 123,
  ret: 456,
};

const samples: HistoryOp[] = [
  read,
  { client: 1, op: 'write', key: 'k', value: 'v', expected: null, output: null, ok: true, call: 1, ret: 2 },
  { client: 2, op: 'write', key: 'k2', value: 'w', expected: null, output: null, ok: null, call: 5, ret: null },
  { client: 3, op: 'cas', key: 'k', value: 'b', expected: 'a', output: null, ok: false, call: 7, ret: 9 },
  { client: 4, op: 'cas', key: 'k', value: 'c', expected: null, output: 'x', ok: true, call: 8, ret: 8 },
  { client: 5, op: 'read', key: 'quote"d\n', value: null, expected: null, output: null, ok: true, call: 0, ret: 0 },
];

describe('encodeHistoryLine', () => {
  it('writes the exact keys in the exact order', () => {
    expect(encodeHistoryLine(read)).toBe(
      '{"client":0,"op":"read","key":"k","value":null,"expected":null,"output":"v","ok":true,"call":123,"ret":456}',
    );
  });

  it('keeps the order even when the object was built in another order', () => {
    const shuffled = { ret: null, call: 4, ok: null, output: null, expected: null, value: 'x', key: 'k', op: 'write', client: 2 } as const;
    expect(encodeHistoryLine(shuffled)).toBe(
      '{"client":2,"op":"write","key":"k","value":"x","expected":null,"output":null,"ok":null,"call":4,"ret":null}',
    );
  });
});

describe('encodeHistory and parseHistory', () => {
  it('round-trips every kind of operation', () => {
    const text = encodeHistory(samples);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(samples.length + 1);
    expect(parseHistory(text)).toEqual(samples);
  });

  it('encodes an empty history as the empty string and parses it back', () => {
    expect(encodeHistory([])).toBe('');
    expect(parseHistory('')).toEqual([]);
  });

  it('tolerates CRLF line ends and blank lines', () => {
    const text = `\r\n${encodeHistoryLine(read)}\r\n\n`;
    expect(parseHistory(text)).toEqual([read]);
  });
});

describe('parseHistory rejects malformed lines, naming the line', () => {
  const good = encodeHistoryLine(read);
  const withLine3 = (line: string): string => `${good}\n${good}\n${line}\n${good}\n`;
  const replace = (patch: Record<string, unknown>): string => JSON.stringify({ ...read, ...patch });

  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"client":0,', /not valid JSON/],
    ['an array', '[1,2]', /JSON object/],
    ['a missing key', JSON.stringify({ ...read, ret: undefined }), /missing key "ret"/],
    ['an extra key', replace({ extra: 1 }), /unexpected key "extra"/],
    ['a bad op', replace({ op: 'delete' }), /"op"/],
    ['a fractional time', replace({ call: 1.5 }), /"call"/],
    ['a negative client', replace({ client: -1 }), /"client"/],
    ['a numeric value', replace({ output: 3 }), /"output"/],
    ['ret before call', replace({ call: 500 }), /before "call"/],
    ['ok without ret', replace({ ret: null }), /both be null/],
    ['ret without ok', replace({ ok: null }), /both be null/],
    ['a read with a value', replace({ value: 'x' }), /read must have "value": null/],
    ['a write with expected', replace({ op: 'write', value: 'x', output: null, expected: 'y' }), /write must have "expected"/],
  ];

  for (const [name, line, message] of cases) {
    it(`rejects ${name}`, () => {
      let caught: unknown;
      try {
        parseHistory(withLine3(line));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(HistoryFormatError);
      const error = caught as HistoryFormatError;
      expect(error.message).toMatch(/^history line 3: /);
      expect(error.message).toMatch(message);
      expect(error.lineNumber).toBe(3);
      expect(error.code).toBe('HISTORY_FORMAT');
    });
  }
});
