/**
 * The anti-replay window of one link (receiving side): which sequence numbers were already
 * accepted, for the last `replayWindowMax` of them, in O(1) time and fixed memory. The scheme of
 * IPsec and DTLS, with the bitmap as a ring of 32-bit words (RFC 6479): moving the window forward
 * clears whole words instead of shifting bits.
 *
 * The sender numbers its frames on the link 1, 2, 3, ... (JavaScript safe integers, strictly
 * increasing). The receiver accepts each number once, in any order, as long as it is within
 * `replayWindowMax` of the highest number accepted so far:
 *
 *   highest = the highest seq accepted (0 before any)
 *   check(seq) = 'invalid'   when seq is not an integer in 1..2^53-1 (Number.MAX_SAFE_INTEGER)
 *              = 'fresh'     when seq > highest, or highest - seq < replayWindowMax and seq's bit is clear
 *              = 'replayed'  when highest - seq < replayWindowMax and seq's bit is set
 *              = 'too-old'   when highest - seq >= replayWindowMax (it may or may not be a replay: we forgot)
 *
 * Reordered frames (WebRTC in unordered mode, the simulator) are accepted once each if they land
 * inside the window; a frame delayed by more than `replayWindowMax` later frames is dropped as
 * too old, which Raft tolerates like any loss.
 *
 * The ring has `replayWindowMax / 32 + 1` words: the window's seqs span at most that many words
 * when it does not start on a word boundary, so the word of the highest seq never aliases a word
 * still inside the window.
 *
 * Call `accept` only AFTER the frame's tag verified (link-guard.ts): a forged frame must not move
 * the window. `accept` of a seq that `check` does not call fresh is our bug, and asserts.
 */
import { assert } from '../../core/assert.ts';
import { ConfigError } from '../../core/raft/errors.ts';

/** The default window, in sequence numbers behind the highest accepted. */
export const replayWindowMaxDefault = 1024;
/** The largest window accepted as configuration (128 KiB of bitmap). */
export const replayWindowMaxCeiling = 1 << 20;

export type ReplayCheck = 'fresh' | 'replayed' | 'too-old' | 'invalid';

const wordBits = 32;

/** Throws `ConfigError` unless `replayWindowMax` is a multiple of 32 in 32..2^20. */
export function checkReplayWindowMax(replayWindowMax: number): void {
  if (!Number.isSafeInteger(replayWindowMax) || replayWindowMax < wordBits || replayWindowMax % wordBits !== 0) {
    throw new ConfigError(`replayWindowMax must be a positive multiple of 32, got ${String(replayWindowMax)}`);
  }
  if (replayWindowMax > replayWindowMaxCeiling) {
    throw new ConfigError(`replayWindowMax must be at most ${replayWindowMaxCeiling}, got ${replayWindowMax}`);
  }
}

export class ReplayWindow {
  readonly replayWindowMax: number;
  private readonly ring: Uint32Array;
  private highest = 0;

  constructor(replayWindowMax: number = replayWindowMaxDefault) {
    checkReplayWindowMax(replayWindowMax);
    this.replayWindowMax = replayWindowMax;
    this.ring = new Uint32Array(replayWindowMax / wordBits + 1);
  }

  /** The highest seq accepted so far; 0 before the first. */
  get highestSeq(): number {
    return this.highest;
  }

  /** What `seq` would be: never changes the window. `seq` comes from the network. */
  check(seq: number): ReplayCheck {
    if (!Number.isSafeInteger(seq) || seq < 1) return 'invalid';
    if (seq > this.highest) return 'fresh';
    if (this.highest - seq >= this.replayWindowMax) return 'too-old';
    return (this.ring[this.wordOf(seq)]! & bitOf(seq)) !== 0 ? 'replayed' : 'fresh';
  }

  /** Record `seq` as received. Precondition: `check(seq) === 'fresh'` and its frame verified. */
  accept(seq: number): void {
    assert(this.check(seq) === 'fresh', 'ReplayWindow.accept of a seq that is not fresh');
    if (seq > this.highest) this.advanceTo(seq);
    this.ring[this.wordOf(seq)]! |= bitOf(seq);
  }

  /** Make `seq` the highest: clear the words that the window enters (all of them after a far jump). */
  private advanceTo(seq: number): void {
    const fromWord = Math.floor(this.highest / wordBits);
    const toWord = Math.floor(seq / wordBits);
    const wordsToClear = toWord - fromWord;
    if (wordsToClear >= this.ring.length) {
      this.ring.fill(0);
    } else {
      for (let w = fromWord + 1; w <= toWord; w++) this.ring[w % this.ring.length] = 0;
    }
    this.highest = seq;
  }

  private wordOf(seq: number): number {
    return Math.floor(seq / wordBits) % this.ring.length;
  }
}

function bitOf(seq: number): number {
  return 1 << (seq % wordBits);
}
