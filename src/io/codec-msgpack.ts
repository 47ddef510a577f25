/**
 * msgpackr, configured once for every msgpack body (the family codecs), behind the only two
 * doors the codec uses: `packBody` for our own values and `unpackBody` for a peer's bytes, which
 * runs the profile pre-scan (codec-profile.ts) first so that msgpackr only ever parses plain
 * msgpack of a bounded count of values. Only `src/io/codec*` imports msgpackr (DESIGN.md §1).
 */
import { Packr, Unpackr } from 'msgpackr';
import { err, ok, type Result } from '../core/result.ts';
import { CodecError } from './codec-error.ts';
import type { CodecLimits } from './codec-limits.ts';
import { checkMsgpackProfile } from './codec-profile.ts';

/**
 * Encoder options:
 * - `useRecords: false`: plain msgpack maps with string keys, which any msgpack library reads
 *   (records are a msgpackr extension).
 * - `variableMapSize: true`: the smallest map header (fixmap for our maps) rather than always
 *   map16; smaller frames, and still standard msgpack.
 * - `structuredClone: false`, `moreTypes: false`: no msgpackr extension types in output;
 *   `Uint8Array` is written as msgpack bin, never as a typed-array extension.
 * Integers are written in the smallest msgpack int format, strings as str, booleans as bool.
 */
const packr = new Packr({ useRecords: false, variableMapSize: true, structuredClone: false, moreTypes: false });

/**
 * Decoder options. The profile check has already refused extension types (so no records, dates,
 * structured clones or bundled strings reach msgpackr); these keep the decoder plain anyway:
 * - `useRecords: false`, `mapsAsObjects: true`: maps become plain objects (msgpackr renames a
 *   `__proto__` key, which then fails the field checks as an unexpected field).
 * - `structuredClone: false`: no reference or cycle extensions.
 * - `int64AsType: 'number'`: a 64-bit integer becomes a number, and any value beyond 2^53 - 1
 *   comes out unsafe and is refused by the safe-integer checks (rather than a BigInt).
 * Binary values come out as views into the input; the validators copy what they keep.
 */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, structuredClone: false, int64AsType: 'number' });

/**
 * A peer's msgpack bytes as a value, or why not: FRAME_TOO_LARGE above `frameBytesMax` (not
 * parsed), MALFORMED or TOO_MANY_VALUES from the pre-scan (not parsed), MALFORMED if msgpackr
 * still fails. Never throws.
 */
export function unpackBody(bytes: Uint8Array, limits: CodecLimits): Result<unknown, CodecError> {
  if (bytes.byteLength > limits.frameBytesMax) {
    return err(new CodecError('FRAME_TOO_LARGE', `${bytes.byteLength} bytes, more than frameBytesMax (${limits.frameBytesMax})`));
  }
  const problem = checkMsgpackProfile(bytes, limits.valuesPerFrameMax);
  if (problem !== null) return err(problem);
  try {
    return ok(unpackr.unpack(bytes));
  } catch (e) {
    return err(new CodecError('MALFORMED', `msgpack: ${errorText(e)}`));
  }
}

/** Our own value as msgpack, in a fresh buffer it owns (msgpackr returns a view into its reusable one). */
export function packBody(value: unknown): Uint8Array {
  return new Uint8Array(packr.pack(value));
}

/**
 * Our own message as a body its receivers will take: packed, within `frameBytesMax`, and within
 * the msgpack profile's value count. The count is not a field rule: a message whose every field
 * passes (an append of many configuration entries, a push of many deltas) could still exceed
 * `valuesPerFrameMax` at its receivers, which would refuse it.
 */
export function packCheckedBody(message: unknown, limits: CodecLimits): Result<Uint8Array, CodecError> {
  const body = packBody(message);
  if (body.byteLength > limits.frameBytesMax) {
    return err(new CodecError('FRAME_TOO_LARGE', `body of ${body.byteLength} bytes, more than frameBytesMax (${limits.frameBytesMax})`));
  }
  const problem = checkMsgpackProfile(body, limits.valuesPerFrameMax);
  return problem === null ? ok(body) : err(problem);
}

/** A thrown value as a short text for an error message. */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}
