/**
 * Why the codec refused a frame. Input from the network is validated and dropped, never thrown
 * through the driver (STYLE.md: three kinds of failure); each refusal is a `CodecError` value
 * with a stable `code`, so that it can be counted in metrics and cross comlink as tagged data
 * `{ code, message }` (DESIGN.md §3). `docs/protocol.md` defines the codes and the order in
 * which a receiver checks for them.
 */

/** Every code, in the order a receiver checks for them (docs/protocol.md "Validation"). */
export const codecErrorCodes = [
  /** The frame is longer than `frameBytesMax`; it was not parsed. */
  'FRAME_TOO_LARGE',
  /** Not a well-formed frame: bad msgpack, outside the msgpack profile, or a bad envelope. */
  'MALFORMED',
  /** The envelope's `v` is an integer, but not a protocol version this node speaks. */
  'BAD_VERSION',
  /** A well-formed frame for another cluster. */
  'WRONG_CLUSTER',
  /** A well-formed frame for another node of this cluster. */
  'WRONG_RECIPIENT',
  /** A protocol family defined by the protocol but not implemented yet (`gossip`, `bft`, `client`). */
  'UNSUPPORTED_FAMILY',
  /** A body whose `type` this node does not know (a newer peer's message): dropped. */
  'UNKNOWN_TYPE',
  /** A body of a known type that breaks a field rule. */
  'INVALID_MESSAGE',
] as const;

export type CodecErrorCode = (typeof codecErrorCodes)[number];

export class CodecError extends Error {
  override readonly name = 'CodecError';
  readonly code: CodecErrorCode;
  /**
   * The field at fault as a path from the envelope (`body.entries[3].index`), or null when the
   * frame as a whole is at fault (too large, not msgpack).
   */
  readonly field: string | null;

  constructor(code: CodecErrorCode, message: string, field: string | null = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}
