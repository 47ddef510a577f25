/**
 * The `client` family's body codec (src/io/codec-client.ts): requests and replies round-trip
 * byte for byte, and every body that breaks a rule (not msgpack, another shape, an unknown
 * type or op, extra or missing fields, no items or too many, an unsafe id, a code that is not an
 * error code, data over the per-item limit) is refused as a value, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { clientItemsPerFrameMax, decodeClientBody, tryEncodeClientBody, type ClientBody } from '../../src/io/codec-client.ts';
import { packBody } from '../../src/io/codec-msgpack.ts';
import { codecLimitsDefault } from '../../src/io/codec-limits.ts';

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);

describe('client body codec', () => {
  it('round-trips requests and replies', () => {
    const bodies: ClientBody[] = [
      { t: 'req', items: [{ id: 1, op: 'propose', data: bytes(2, 2, 1) }, { id: 2, op: 'read', data: bytes(34, 107, 34) }, { id: 3, op: 'status', data: bytes() }] },
      { t: 'rep', items: [{ id: 1, code: '', data: bytes(2) }, { id: 2, code: 'TIMEOUT', data: bytes(120) }] },
    ];
    for (const body of bodies) {
      const encoded = tryEncodeClientBody(body);
      expect(encoded.ok).toBe(true);
      if (!encoded.ok) return;
      expect(decodeClientBody(encoded.value)).toEqual({ ok: true, value: body });
    }
  });

  const item = { id: 1, op: 'propose', data: bytes(1) };
  const hostile: [string, Uint8Array, string][] = [
    ['not msgpack', bytes(0xc1), 'MALFORMED'],
    ['an array', packBody([1, 2]), 'INVALID_MESSAGE'],
    ['an unknown type', packBody({ t: 'push', items: [item] }), 'UNKNOWN_TYPE'],
    ['an extra field', packBody({ t: 'req', items: [item], x: 1 }), 'INVALID_MESSAGE'],
    ['no items', packBody({ t: 'req', items: [] }), 'INVALID_MESSAGE'],
    ['too many items', packBody({ t: 'req', items: Array.from({ length: clientItemsPerFrameMax + 1 }, () => item) }), 'INVALID_MESSAGE'],
    ['an unknown op', packBody({ t: 'req', items: [{ ...item, op: 'delete' }] }), 'UNKNOWN_TYPE'],
    ['a missing field', packBody({ t: 'req', items: [{ id: 1, op: 'status' }] }), 'INVALID_MESSAGE'],
    ['a negative id', packBody({ t: 'req', items: [{ ...item, id: -1 }] }), 'INVALID_MESSAGE'],
    ['a float id', packBody({ t: 'req', items: [{ ...item, id: 1.5 }] }), 'INVALID_MESSAGE'],
    ['data as a string', packBody({ t: 'req', items: [{ ...item, data: 'x' }] }), 'INVALID_MESSAGE'],
    ['data over the limit', packBody({ t: 'req', items: [{ ...item, data: new Uint8Array(codecLimitsDefault.entryDataBytesMax + 1) }] }), 'INVALID_MESSAGE'],
    ['a lowercase code', packBody({ t: 'rep', items: [{ id: 1, code: 'timeout', data: bytes() }] }), 'INVALID_MESSAGE'],
    ['a long code', packBody({ t: 'rep', items: [{ id: 1, code: 'A'.repeat(33), data: bytes() }] }), 'INVALID_MESSAGE'],
  ];
  it.each(hostile)('refuses %s', (_what, body, code) => {
    const decoded = decodeClientBody(body);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.code).toBe(code);
  });
});
