/**
 * Exactly which bytes a link tag covers (for docs/protocol.md):
 *
 *   tag    = HMAC-SHA256(K_link(from, to), head || frame)           32 bytes, not truncated
 *   head   = UTF-8("peerquorum frame v2")                            19 bytes
 *            || u64be(seq)                                            8 bytes
 *            || lp(from) || lp(to)                                    lp(s) = u16be(len(UTF-8(s))) || UTF-8(s)
 *   frame  = the frame's bytes exactly as sent, WITHOUT the tag: the encoded envelope (its
 *            version, family, cluster, from, to and, if the wire format carries it there, seq)
 *            and the body
 *
 * K_link is the pair's key (link-keys.ts), the same for both directions, so the head names the
 * direction: a frame that A sent to B, reflected back to A as if B had sent it, is verified
 * under head (from B, to A) and fails. The sequence number is in the head whether or not the
 * wire format also puts it in the envelope, so the number the receiver checks against its
 * replay window is always authenticated; where the envelope carries it too, the receiver must
 * check that both agree (or take it from the envelope). The label separates frame tags from
 * any other message a later version MACs with the same link key.
 *
 * A `LinkHead` is the head of one direction of one link, built once; only the 8 bytes of `seq`
 * change per frame.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { assert } from '../../core/assert.ts';
import { lengthPrefixed, utf8, writeUint64 } from './bytes.ts';

/** The label at the start of every tagged message: protocol name, "frame", version. */
export const frameTagLabel = 'peerquorum frame v2';

const labelBytes = utf8(frameTagLabel);
const seqOffset = labelBytes.length;

export class LinkHead {
  /** The head bytes; `seq` is written in place, so copy them before an async use. */
  private readonly bytes: Uint8Array;

  constructor(from: NodeId, to: NodeId) {
    const names = lengthPrefixed([utf8(from), utf8(to)]);
    this.bytes = new Uint8Array(labelBytes.length + 8 + names.length);
    this.bytes.set(labelBytes, 0);
    this.bytes.set(names, seqOffset + 8);
  }

  /** The head for `seq`, in this object's buffer (valid until the next call). */
  withSeq(seq: number): Uint8Array {
    assert(Number.isSafeInteger(seq) && seq >= 1, 'a frame seq is a safe integer >= 1');
    writeUint64(this.bytes, seqOffset, seq);
    return this.bytes;
  }

  /** The head for `seq` in fresh bytes, for an async MAC that may run after the next frame. */
  copyWithSeq(seq: number): Uint8Array {
    return new Uint8Array(this.withSeq(seq));
  }
}
