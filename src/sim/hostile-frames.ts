/**
 * Hostile message bodies and frames, drawn from a seeded PRNG, for the simulator's intruder and
 * the hostile-frame fuzzer (intruder.ts, scripts/fuzz.ts). What DESIGN.md §4 and TESTING.md
 * ("Hostile input", "Hostile peers") say every frame must survive:
 *
 * - Raft messages of every type, valid in shape, then MUTATED: a field's value replaced by one of
 *   wrong type, negative, fractional, NaN or infinite, at or beyond 2^53 (as a uint64), a long
 *   string or array, a deep nesting, an extension type; a field removed, a key added (unknown,
 *   `__proto__`, `constructor`), a key repeated; lengths that lie about what follows;
 * - absurd but well-formed values: term 2^53−1, huge indices and counts;
 * - random bytes, truncated and bit-flipped frames, oversized frames, frames for another
 *   cluster (built by the caller around these bodies, see intruder.ts).
 */
import type { Prng } from '../core/prng.ts';
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { chance, pick } from './distributions.ts';
import { encodeRaw, fromValue, raw, type Raw } from './raw-msgpack.ts';

/** A valid message of every type, from `from` to `to`, with plausible values. */
export function messageTemplates(from: NodeId, to: NodeId, prng: Prng): Message[] {
  const term = 1 + prng.nextInt(50);
  const index = prng.nextInt(200);
  const data = new Uint8Array(prng.nextInt(64)).map(() => prng.nextInt(256));
  const entry = { index: index + 1, term, kind: 'normal' as const, data };
  const meta = { index: index + 10, term, config: { voters: [from, to].sort(), learners: [] } };
  return [
    { type: 'append', from, to, term, prevIndex: index, prevTerm: term, entries: [entry], commit: index },
    { type: 'append-response', from, to, term, index: index + 1, reject: chance(prng, 0.5), hintIndex: index, hintTerm: term },
    { type: 'heartbeat', from, to, term, commit: index, round: 1 + prng.nextInt(9) },
    { type: 'heartbeat-response', from, to, term, round: 1 + prng.nextInt(9) },
    { type: 'vote', from, to, term, lastIndex: index, lastTerm: term, transfer: false },
    { type: 'pre-vote', from, to, term: term + 1, lastIndex: index, lastTerm: term, transfer: false },
    { type: 'vote-response', from, to, term, reject: false },
    { type: 'pre-vote-response', from, to, term, reject: false },
    { type: 'timeout-now', from, to, term },
    { type: 'propose', from, to, term: 0, data: [data] },
    { type: 'read-index', from, to, term: 0, requestId: prng.nextInt(1000), lease: false },
    { type: 'read-index-response', from, to, term: 0, requestId: prng.nextInt(1000), index },
    { type: 'transfer-leader', from, to, term: 0, transferee: from },
    { type: 'snapshot', from, to, term, meta, offset: 0, data, done: true, commit: index },
    { type: 'snapshot-response', from, to, term, index: index + 10, received: data.length, done: true },
  ] as Message[];
}

/** Values no honest encoder would put where a field is. */
function hostileValue(prng: Prng): Raw {
  switch (prng.nextInt(22)) {
    case 0:
      return raw.int(-1 - prng.nextInt(1000));
    case 1:
      return raw.big(2n ** 53n);
    case 2:
      return raw.int(Number.MAX_SAFE_INTEGER);
    case 3:
      return raw.big(2n ** 64n - 1n);
    case 4:
      return raw.float(Number.NaN);
    case 5:
      return raw.float(Number.POSITIVE_INFINITY);
    case 6:
      return raw.float(0.5);
    case 7:
      return raw.str('x'.repeat(1 + prng.nextInt(20_000)));
    case 8:
      return raw.array(Array.from({ length: 1 + prng.nextInt(5000) }, () => raw.int(0)));
    case 9:
      return nest(prng.nextInt(64));
    case 10:
      return raw.ext(prng.nextInt(256) - 128, new Uint8Array(1 + prng.nextInt(16)));
    case 11:
      return raw.bool(chance(prng, 0.5));
    case 12:
      return raw.nil;
    case 13:
      return raw.str('', 0x7fff_ffff); // a length that lies
    case 14:
      return raw.array([], 0xffff_ffff);
    case 15:
      return raw.map([], 0xffff_ffff);
    case 16:
      return raw.bin(new Uint8Array(4), 0x7fff_ffff);
    case 17:
      return raw.map([[raw.str('__proto__'), raw.map([[raw.str('polluted'), raw.bool(true)]])]]);
    case 18:
      return raw.str('\u0000\uffff\ud800');
    case 19:
      return raw.int(2 ** 48 + 1);
    case 20:
      return raw.map(Array.from({ length: 1 + prng.nextInt(2000) }, (_, i) => [raw.str(`k${i}`), raw.map([])] as const));
    default:
      return raw.bin(new Uint8Array(1 + prng.nextInt(256)));
  }
}

function nest(depth: number): Raw {
  let r: Raw = raw.nil;
  for (let i = 0; i < depth; i++) r = i % 2 === 0 ? raw.array([r]) : raw.map([[raw.str('a'), r]]);
  return r;
}

/** Mutate one field of a message's map (top level or one level down). */
function mutate(m: Raw, prng: Prng): Raw {
  if (m.t !== 'map') return m;
  const entries = [...m.v];
  const at = prng.nextInt(Math.max(1, entries.length));
  switch (prng.nextInt(8)) {
    case 0:
    case 1:
    case 2: {
      // Replace a value (maybe inside a nested map or array).
      const e = entries[at];
      if (e === undefined) break;
      const inner = e[1];
      if ((inner.t === 'map' || inner.t === 'array') && chance(prng, 0.4)) entries[at] = [e[0], inner.t === 'map' ? mutate(inner, prng) : raw.array([hostileValue(prng), ...inner.v.slice(1)])];
      else entries[at] = [e[0], hostileValue(prng)];
      break;
    }
    case 3:
      entries.splice(at, 1); // a field missing
      break;
    case 4:
      entries.push([raw.str(pick(prng, ['__proto__', 'constructor', 'prototype', 'extra', 'toString'])), hostileValue(prng)]);
      break;
    case 5: {
      const e = entries[at];
      if (e !== undefined) entries.push(e); // a key repeated
      break;
    }
    case 6:
      entries[at] = [hostileValue(prng), entries[at]?.[1] ?? raw.nil]; // a key that is no string
      break;
    default:
      return raw.map(entries, entries.length + 1 + prng.nextInt(1000)); // more entries declared than follow
  }
  return raw.map(entries);
}

/**
 * A hostile Raft body from `from` to `to`: a template mutated once or a few times, an absurd but
 * well-formed one (term 2^53 − 1), or now and then a valid one (so the engines meet valid
 * messages from whoever sends them too).
 */
export function hostileRaftBody(from: NodeId, to: NodeId, prng: Prng): Uint8Array {
  const template = pick(prng, messageTemplates(from, to, prng));
  const roll = prng.nextInt(10);
  if (roll === 0) return encodeRaw(fromValue(template));
  if (roll === 1) return encodeRaw(fromValue({ ...template, term: Number.MAX_SAFE_INTEGER }));
  let m = fromValue(template);
  for (let i = 1 + prng.nextInt(3); i > 0; i--) m = mutate(m, prng);
  return encodeRaw(m);
}

/**
 * A body of `bytes` bytes that is one array of empty maps (msgpack 0xdd, a count, then 0x80 for
 * each): small on the wire, a million values for a decoder that does not count them first.
 */
export function emptyMapsBody(bytes: number): Uint8Array {
  const n = Math.max(0, bytes - 5);
  const body = new Uint8Array(5 + n).fill(0x80);
  body[0] = 0xdd;
  new DataView(body.buffer).setUint32(1, n);
  return body;
}

/** Random bytes, or a frame's bytes cut short or with bits flipped. */
export function garble(frame: Uint8Array | null, prng: Prng): Uint8Array {
  if (frame === null || frame.length === 0 || chance(prng, 0.3)) return new Uint8Array(prng.nextInt(400)).map(() => prng.nextInt(256));
  if (chance(prng, 0.5)) return frame.slice(0, prng.nextInt(frame.length));
  const out = frame.slice();
  for (let i = 1 + prng.nextInt(4); i > 0; i--) {
    const at = prng.nextInt(out.length);
    out[at] = (out[at] as number) ^ (1 << prng.nextInt(8));
  }
  return out;
}
