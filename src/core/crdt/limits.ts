/**
 * The bounds on every replicated data type (TIGER_STYLE: a limit on everything, units last).
 *
 * These are protocol constants, not per-node settings: a state one replica accepts and another
 * refuses would never converge (the second would drop every gossip message carrying it, and the
 * Merkle digests of that key would differ forever). So every node uses these same numbers, and
 * `decode` (the door for a peer's state) refuses anything beyond them BEFORE it allocates or
 * loops over it.
 *
 * The integer bounds are chosen so that arithmetic on valid states can never leave the safe
 * integers: a counter's value is a sum over its replicas, so `countMax · replicasPerVectorMax`
 * must stay below 2^53 with room to spare for states that merged a few full vectors (2^40 · 2^10
 * = 2^50, so even four merged full vectors sum safely).
 */

/** Most replicas named in one version vector, one counter, or one dot cloud. */
export const replicasPerVectorMax = 1_024;

/**
 * Most entries in one decoded state, counted across all its nesting: every replica of a vector,
 * every dot of a store or of a cloud, every element of a set, every field of a map costs one.
 * One budget for the whole state rather than a bound per collection, so that nesting cannot
 * multiply the bounds (64 maps of 64 maps of 64 sets is still at most this many entries).
 */
export const entriesPerStateMax = 65_536;

/** Longest replica id, in UTF-8 bytes (the node id bound of the wire codec, nodeIdBytesMax). */
export const replicaIdBytesMax = 255;

/** Longest element of an OR-Set or key of an OR-Map, in UTF-8 bytes. */
export const keyBytesMax = 1_024;

/** Longest string a register holds, in UTF-8 bytes. */
export const valueBytesMax = 65_536;

/**
 * Deepest nesting of OR-Maps: a standalone map is at depth 1, and may hold maps down to this
 * depth (a map of maps of maps). Bounds the recursion of decode, merge and value, so a hostile
 * peer cannot exhaust the stack, and bounds how deep an encoded state nests (`wireDepthMax`).
 */
export const nestingDepthMax = 3;

/**
 * Deepest nesting of arrays in any encoded state: two levels for a state and its parts, one more
 * per nested map. The wire codec refuses msgpack nested deeper than 8 (msgpackDepthMax,
 * src/io/codec-profile.ts), so a gossip message may wrap a state in at most 8 − 5 = 3 levels of
 * its own, or carry it as a separate msgpack blob. The encodings are flat lists with a fixed
 * stride (a dot is two numbers in a list, not a list of two) for this reason, and for bytes.
 */
export const wireDepthMax = nestingDepthMax + 2;

/**
 * Largest per-replica count: a G-Counter's entry, each half of a PN-Counter's, a dot's sequence
 * number, a version vector's entry. 2^40 increments of one is a thousand a second for 35 years.
 */
export const countMax = 2 ** 40;

/**
 * Largest LWW timestamp. The caller supplies timestamps (milliseconds since 1970 fit in 2^41
 * until the year 2039 and in 2^48 for thousands of years); a write bumps the timestamp past the
 * one it overwrites (lww-register.ts), so the bound leaves room to count up safely.
 */
export const timestampMax = 2 ** 48;
