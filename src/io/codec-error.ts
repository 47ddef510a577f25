/**
 * Why the codec refused a frame. Input from the network is validated and dropped, never thrown
 * through the driver (STYLE.md: three kinds of failure); each refusal is a `CodecError` value
 * with a stable `code`, so that it can be counted in metrics and cross comlink as tagged data
 * `{ code, message }` (DESIGN.md §3). `docs/protocol.md` defines the codes and the order in
 * which a receiver checks for them.
 */

/**
 * Every code. docs/protocol.md "Validation" gives the order in which a receiver checks for them;
 * codes are only ever added (at the end of their group), never renamed or given a new meaning.
 */
export const codecErrorCodes = [
  /** The frame (or a body given alone) is longer than `frameBytesMax`; it was not parsed. */
  'FRAME_TOO_LARGE',
  /**
   * Not a well-formed frame: a bad v2 header (lengths, UTF-8, reserved bits, trailing bytes), or
   * a body that is bad msgpack or leaves the msgpack profile (extension types, duplicate keys,
   * nesting deeper than `msgpackDepthMax`, a declared length longer than the bytes left).
   */
  'MALFORMED',
  /**
   * A body whose msgpack holds more values (every map, array, key and element counted) than
   * `valuesPerFrameMax`: refused by the pre-scan before any value is built, because a few bytes
   * per value become tens of bytes of heap each in a decoder (a 4 MiB frame of empty maps used to
   * cost 256 MiB and over a second). Counted apart from MALFORMED: it is well-formed msgpack, and
   * no correct sender comes near the bound.
   */
  'TOO_MANY_VALUES',
  /** The frame's version (its first byte) is not the one this node speaks; a v1 frame (a msgpack map) included. */
  'BAD_VERSION',
  /** A well-formed frame for another cluster. */
  'WRONG_CLUSTER',
  /** A well-formed frame for another node of this cluster. */
  'WRONG_RECIPIENT',
  /** A protocol family the protocol defines but this node has no body codec for (`gossip`, `bft`, `client` today). */
  'UNSUPPORTED_FAMILY',
  /** A body whose `type` this node does not know (a newer peer's message): dropped. */
  'UNKNOWN_TYPE',
  /**
   * A body of a known type that breaks a field rule: a type, a range (terms and indices above
   * `termMax` and `indexMax` included), a count or size limit, or a `from`/`to` other than the
   * envelope's (a peer must not speak for another).
   */
  'INVALID_MESSAGE',
] as const;

export type CodecErrorCode = (typeof codecErrorCodes)[number];

export class CodecError extends Error {
  override readonly name = 'CodecError';
  readonly code: CodecErrorCode;
  /**
   * The field at fault as a path from the envelope (`seq`, `body.entries[3].index`), or null
   * when the frame or body as a whole is at fault (too large, not msgpack, too many values).
   */
  readonly field: string | null;

  constructor(code: CodecErrorCode, message: string, field: string | null = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}
