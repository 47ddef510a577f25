/**
 * Protocol constants of the gossip engine: the same on every node, because a value one node
 * accepts and another refuses would split the membership view (unlike `GossipConfig`, whose
 * limits bound one node's own memory and traffic). validate-gossip.ts refuses any message that
 * breaks them, before a field of it reaches the engine.
 */

/**
 * The highest incarnation a member may claim, as Raft's `termMax` (src/core/raft/limits.ts): a
 * peer must never hand a node a number it cannot count up from. A suspicion "at incarnation
 * 2^53 - 1" would leave its target unable to refute (incarnation + 1 is no longer a safe
 * integer) and so declared dead for good. A member refutes once per false suspicion; 2^48
 * refutations at one a second would take nine million years.
 */
export const incarnationMax = 2 ** 48;

/**
 * How far above the incarnation we know one update may move a member's (our own included).
 * Only a member raises its own incarnation, by one per refutation (SWIM §4.2), so honest
 * updates move by small steps. A node that lost its storage is the exception: it must refute
 * at above what others remember of its former life, so an accusation about us above our own
 * incarnation is still believed, within this jump. Bounded jumps mean a hostile member needs
 * 2^28 accepted forgeries, not one, to push anybody to `incarnationMax`.
 */
export const incarnationJumpMax = 2 ** 20;

/** The highest probe sequence number; a node's counter wraps to 1 past it (2^48 probes never happen). */
export const seqMax = 2 ** 48;

/** Most piggybacked updates in one message (`piggybackPerMessageMax` may not exceed it). */
export const updatesPerMessageMax = 64;

/** Most member entries in one `sync` (`syncMembersMax` may not exceed it). */
export const syncEntriesPerMessageMax = 512;

/**
 * Longest member id, in UTF-16 code units (the codec's `idCharsMax` is 128 code points; a
 * member id is a node id). Checked before the id is walked for unprintable characters.
 */
export const memberIdUnitsMax = 128;

// ---- the replication data plane (replication.ts) ------------------------------------------------

/** Most deltas in one `crdt-push` and most states in one `crdt-states`. */
export const dataItemsPerMessageMax = 256;

/** Most names one `crdt-states` asks for (`want`). */
export const wantPerMessageMax = 1_024;

/** The highest TTL a pushed delta may carry, in hops (the default is 5: `deltaTtlHops`). */
export const deltaTtlHopsMax = 16;

/**
 * Most msgpack values in the states of one data message, all states together. The codec refuses
 * a frame of more than 65,536 values by default (src/io/codec-limits.ts); this leaves room for
 * the envelope and the items' maps, and the engine checks it again for hosts without a codec.
 */
export const dataValuesPerMessageMax = 49_152;

/**
 * Most msgpack values in one encoded state this node makes by a local update (the update is
 * refused past it), so that every state fits one data message alone. A merge of two states
 * below it may pass it; such a state is kept (a replica may not refuse a join) but cannot be
 * shipped whole by anti-entropy (`statesUnshippable`), only its deltas travel.
 */
export const stateValuesMax = 32_768;

/** Longest CRDT name, in UTF-8 bytes: a store key is `<type>/<name>` and must stay within the CRDT key bound (1,024). */
export const crdtNameBytesMax = 1_000;

/** Most nodes a `hashes-request` of anti-entropy may name: its answer is 16 hashes per node (about 9 KiB at 64). */
export const merkleNodesPerRequestMax = 64;

/** Most leaves a `leaves-request` of anti-entropy may name. */
export const merkleLeavesPerRequestMax = 64;
