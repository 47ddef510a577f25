/**
 * What this proves about the field rules of a `raft` body (src/io/validate-raft.ts, through
 * `decodeRaftBody` and `tryEncodeRaftBody`; docs/protocol.md "Raft messages"):
 *
 * - A body with no type, or a type that is not a string, is INVALID_MESSAGE; a type this node
 *   does not know is UNKNOWN_TYPE.
 * - Every field of every message type, missing, or holding a value of the wrong type or range,
 *   is INVALID_MESSAGE naming that field; an extra field in any message is INVALID_MESSAGE.
 * - Integers beyond 2^53 - 1 in 64-bit msgpack formats are refused, and so is 2^53 - 1 itself
 *   where an index goes (above indexMax); term 0 belongs to the forwarded requests and the read
 *   answer, and only to them.
 * - Entries must continue prevIndex one apart with terms that never decrease nor pass the
 *   message's; entries of an unknown kind or with the config field wrong, configurations that are
 *   unsorted, repeat a member or make one both voter and learner, and bad snapshot metadata are
 *   refused at their exact path.
 * - Our own encoder refuses, with the code a receiver would give, what a peer would drop.
 *
 * A body speaking for another sender or recipient than its envelope, and the term and index
 * ceilings given as plain numbers, are codec-raft.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import type { Message } from '../../src/core/raft/messages.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { CodecError, type CodecErrorCode } from '../../src/io/codec-error.ts';
import { encodeRaftBody, tryEncodeRaftBody } from '../../src/io/codec-raft.ts';
import { at, conf, decodeAs, expectRejected, Raw, sampleOf, samples, tamper, type Mut } from './raft-body-samples.ts';

describe('the type', () => {
  it('a body that has no type, or a type that is not a string: INVALID_MESSAGE', () => {
    const m = sampleOf('heartbeat');
    expectRejected(tamper(m, (b) => delete b['type']), 'INVALID_MESSAGE', 'body.type');
    expectRejected(tamper(m, (b) => (b['type'] = 3)), 'INVALID_MESSAGE', 'body.type');
  });

  it('a type this node does not know: UNKNOWN_TYPE', () => {
    const m = sampleOf('heartbeat');
    for (const type of ['install-snapshot', 'Heartbeat', '', 'x'.repeat(1000)]) {
      expectRejected(tamper(m, (b) => (b['type'] = type)), 'UNKNOWN_TYPE', 'body.type');
    }
  });
});

describe('every field of every message type', () => {
  it('missing: INVALID_MESSAGE naming it', () => {
    let checked = 0;
    for (const m of samples) {
      for (const key of Object.keys(m).filter((k) => k !== 'type')) {
        expectRejected(tamper(m, (b) => delete b[key]), 'INVALID_MESSAGE', `body.${key}`, m);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('an extra field in any message: INVALID_MESSAGE', () => {
    for (const m of samples) {
      expectRejected(tamper(m, (b) => (b['extra'] = 1)), 'INVALID_MESSAGE', 'body', m);
    }
  });

  const notAnInteger = ['3', 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300, null, true, [], {}, new Uint8Array(1)];
  const notABoolean = [0, 1, 'true', null, [], new Uint8Array(0)];
  const notAName = [5, '', null, 'n'.repeat(129), 'a\u0000b', [], new Uint8Array(2)];
  const notBytes = ['abc', [1, 2], null, 5, {}];

  /** Values that break each field (some need the message: a term may not exceed the message's). */
  function badValues(m: Message, key: string): readonly unknown[] {
    switch (key) {
      case 'from':
      case 'to':
      case 'transferee':
      case 'node':
        return notAName;
      case 'reject':
      case 'transfer':
      case 'lease':
      case 'done':
        return notABoolean;
      case 'term':
        return [...notAnInteger, -1, m.term === 0 ? 1 : 0];
      case 'requestId':
        return notAnInteger; // any safe integer is a request id, negatives too
      case 'prevTerm':
      case 'hintTerm':
      case 'lastTerm':
        return [...notAnInteger, -1, m.term + 1];
      case 'index':
        return [...notAnInteger, m.type === 'read-index-response' ? -2 : -1];
      case 'data':
        return m.type === 'propose' ? [...notBytes.filter((v) => !Array.isArray(v)), [5], ['abc']] : notBytes;
      case 'entries':
        return [null, 5, 'x', {}, [5], [null]];
      case 'meta':
        return [null, 5, [], {}];
      default:
        return [...notAnInteger, -1];
    }
  }

  it('with values of the wrong type or range: INVALID_MESSAGE naming it', () => {
    let checked = 0;
    for (const m of samples) {
      for (const key of Object.keys(m).filter((k) => k !== 'type')) {
        for (const bad of badValues(m, key)) {
          expectRejected(
            tamper(m, (b) => (b[key] = bad)),
            'INVALID_MESSAGE',
            new RegExp(`^body\\.${key}(\\W|$)`),
            m,
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(700);
  });
});

describe('integers and terms', () => {
  it('integers beyond 2^53 - 1 in 64-bit msgpack formats: INVALID_MESSAGE', () => {
    const m = sampleOf('heartbeat');
    const uint64 = new Raw(Uint8Array.of(0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0)); // 2^53
    const int64 = new Raw(Uint8Array.of(0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0)); // -2^53
    const max = new Raw(Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); // 2^64 - 1
    for (const big of [uint64, int64, max]) {
      expectRejected(tamper(m, (b) => (b['commit'] = big)), 'INVALID_MESSAGE', 'body.commit');
    }
    // 2^53 - 1 is a safe integer, but above indexMax (2^48): refused too; 2^48 itself passes.
    const safe = new Raw(Uint8Array.of(0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); // 2^53 - 1
    expectRejected(tamper(m, (b) => (b['commit'] = safe)), 'INVALID_MESSAGE', 'body.commit');
    const ceiling = new Raw(Uint8Array.of(0xcf, 0x00, 0x01, 0, 0, 0, 0, 0, 0)); // 2^48
    expect(decodeAs(tamper(m, (b) => (b['commit'] = ceiling))).ok).toBe(true);
  });

  it('term 0 only on forwarded requests and the read answer, and never on them a term', () => {
    for (const m of samples) {
      const wrong = m.term === 0 ? 3 : 0;
      expectRejected(tamper(m, (b) => (b['term'] = wrong)), 'INVALID_MESSAGE', 'body.term', m);
    }
  });
});

describe('entries, configurations, snapshot metadata', () => {
  const append = sampleOf('append');
  const entry = (b: Mut, i: number): Mut => at(b['entries'], i);

  it.each<[string, (body: Mut) => void, string]>([
    ['a gap', (b) => (entry(b, 2)['index'] = 14), 'body.entries[2].index'],
    ['an index twice', (b) => (entry(b, 1)['index'] = 11), 'body.entries[1].index'],
    ['entries that do not follow prevIndex', (b) => (b['prevIndex'] = 9), 'body.entries[0].index'],
    ['an entry index of 0', (b) => (entry(b, 0)['index'] = 0), 'body.entries[0].index'],
  ])('non-contiguous entries (%s): INVALID_MESSAGE', (_name, edit, field) => {
    expectRejected(tamper(append, edit), 'INVALID_MESSAGE', field);
  });

  it.each<[string, (body: Mut) => void, string]>([
    ['a term that decreases', (b) => (entry(b, 2)['term'] = 4), 'body.entries[2].term'],
    ['a term below prevTerm', (b) => (b['prevTerm'] = 5), 'body.entries[0].term'],
    ['a term beyond the message term', (b) => (entry(b, 3)['term'] = 6), 'body.entries[3].term'],
    ['a term of 0', (b) => (entry(b, 0)['term'] = 0), 'body.entries[0].term'],
  ])('entry terms out of order (%s): INVALID_MESSAGE', (_name, edit, field) => {
    expectRejected(tamper(append, edit), 'INVALID_MESSAGE', field);
  });

  it('entries of an unknown kind, or with the config field wrong: INVALID_MESSAGE', () => {
    expectRejected(tamper(append, (b) => (entry(b, 0)['kind'] = 'snapshot')), 'INVALID_MESSAGE', 'body.entries[0].kind');
    expectRejected(tamper(append, (b) => delete entry(b, 0)['kind']), 'INVALID_MESSAGE', 'body.entries[0].kind');
    expectRejected(tamper(append, (b) => delete entry(b, 2)['config']), 'INVALID_MESSAGE', 'body.entries[2].config');
    expectRejected(tamper(append, (b) => (entry(b, 0)['config'] = conf)), 'INVALID_MESSAGE', 'body.entries[0]');
    expectRejected(tamper(append, (b) => (entry(b, 1)['data'] = 'x')), 'INVALID_MESSAGE', 'body.entries[1].data');
    expectRejected(tamper(append, (b) => (entry(b, 1)['extra'] = 1)), 'INVALID_MESSAGE', 'body.entries[1]');
  });

  it.each<[string, unknown, string]>([
    ['not a map', ['n1'], 'body.entries[2].config'],
    ['without learners', { voters: ['n1'] }, 'body.entries[2].config.learners'],
    ['with an extra field', { voters: ['n1'], learners: [], witnesses: [] }, 'body.entries[2].config'],
    ['voters not an array', { voters: 'n1', learners: [] }, 'body.entries[2].config.voters'],
    ['a member that is not a name', { voters: ['n1', 7], learners: [] }, 'body.entries[2].config.voters[1]'],
    ['unsorted voters', { voters: ['n2', 'n1'], learners: [] }, 'body.entries[2].config.voters[1]'],
    ['a voter twice', { voters: ['n1', 'n1'], learners: [] }, 'body.entries[2].config.voters[1]'],
    ['unsorted learners', { voters: ['n1'], learners: ['n5', 'n4'] }, 'body.entries[2].config.learners[1]'],
    ['a voter who is also a learner', { voters: ['n1', 'n2'], learners: ['n2'] }, 'body.entries[2].config.learners[0]'],
  ])('a config entry with a configuration %s: INVALID_MESSAGE', (_name, config, field) => {
    expectRejected(
      tamper(append, (b) => (entry(b, 2)['config'] = config)),
      'INVALID_MESSAGE',
      field,
    );
  });

  const snapshot = sampleOf('snapshot');

  it.each<[string, (meta: Mut) => void, string]>([
    ['index 0', (meta) => (meta['index'] = 0), 'body.meta.index'],
    ['term 0', (meta) => (meta['term'] = 0), 'body.meta.term'],
    ['a term beyond the message term', (meta) => (meta['term'] = 6), 'body.meta.term'],
    ['no configuration', (meta) => delete meta['config'], 'body.meta.config'],
    ['an unsorted configuration', (meta) => (meta['config'] = { voters: ['n3', 'n1'], learners: [] }), 'body.meta.config.voters[1]'],
    ['an extra field', (meta) => (meta['size'] = 10), 'body.meta'],
  ])('snapshot metadata with %s: INVALID_MESSAGE', (_name, edit, field) => {
    expectRejected(
      tamper(snapshot, (b) => edit(b['meta'] as Mut)),
      'INVALID_MESSAGE',
      field,
      snapshot,
    );
  });
});

describe('encoding checks our own messages by the receiver rules', () => {
  it('refuses, with the code a receiver would give, what a peer would drop', () => {
    const heartbeat = sampleOf('heartbeat');
    const append = sampleOf('append');
    const cases: [Message, CodecErrorCode, string][] = [
      [{ ...heartbeat, term: 1.5 }, 'INVALID_MESSAGE', 'body.term'],
      [{ ...heartbeat, extra: 1 } as unknown as Message, 'INVALID_MESSAGE', 'body'],
      [{ ...heartbeat, from: '' }, 'INVALID_MESSAGE', 'body.from'],
      [{ ...sampleOf('propose'), term: 2 }, 'INVALID_MESSAGE', 'body.term'],
      [{ ...heartbeat, type: 'ping' } as unknown as Message, 'UNKNOWN_TYPE', 'body.type'],
      [{ ...append, entries: [append.entries[0] as Entry, append.entries[2] as Entry] }, 'INVALID_MESSAGE', 'body.entries[1].index'],
    ];
    for (const [m, code, field] of cases) {
      const result = tryEncodeRaftBody(m);
      expect(result.ok || { code: result.error.code, field: result.error.field }).toEqual({ code, field });
      expect(() => encodeRaftBody(m)).toThrow(CodecError);
    }
  });
});
