/**
 * The checks every string of a replicated state passes: replica ids, set elements, map keys and
 * register values.
 *
 * Why well-formed UTF-16 matters here and not only for size: states travel as msgpack, whose
 * strings are UTF-8. A lone surrogate has no UTF-8 form; the encoder writes U+FFFD instead, so the
 * peer decodes a DIFFERENT string. An element added under such a key would be one element here and
 * another there, the replicas would never converge, and their Merkle digests would differ on every
 * round. So such strings are refused at both doors (local mutations and decode).
 *
 * The core has no TextEncoder (tsconfig.core.json: ES2022 only), and needs none: the UTF-8 length
 * follows from the code units, counted here with an early exit so a long string costs at most
 * `bytesMax` steps.
 */

export type TextProblem = 'empty' | 'too-long' | 'ill-formed';

/**
 * What is wrong with `text` as a string of at most `bytesMax` UTF-8 bytes, or null if nothing.
 * Never reads more than `bytesMax + 1` code units.
 */
export function textProblem(text: string, bytesMax: number, emptyAllowed: boolean): TextProblem | null {
  if (text.length === 0) return emptyAllowed ? null : 'empty';
  // Every code unit is at least one UTF-8 byte: a longer string is refused without a scan.
  if (text.length > bytesMax) return 'too-long';
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      // A high surrogate must be followed by a low one; the pair is one 4-byte code point.
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return 'ill-formed';
      bytes += 4;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return 'ill-formed';
    else bytes += 3;
    if (bytes > bytesMax) return 'too-long';
  }
  return null;
}

/** How a text problem reads in a refusal's message. */
export function describeTextProblem(problem: TextProblem, bytesMax: number): string {
  switch (problem) {
    case 'empty':
      return 'must not be empty';
    case 'too-long':
      return `longer than ${bytesMax} UTF-8 bytes`;
    case 'ill-formed':
      return 'not well-formed UTF-16 (a lone surrogate has no UTF-8 form and would arrive as another string)';
    default: {
      const never: never = problem;
      return never;
    }
  }
}

/**
 * The one order of strings in every encoding: by UTF-16 code units, as `<` compares them. Not
 * `localeCompare`, whose result depends on the runtime's locale data: two replicas must sort the
 * same state into the same bytes, or equal states would have different Merkle digests.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The UTF-8 length of `text` (a lone surrogate counts 3 bytes: the encoder writes U+FFFD). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
