/**
 * The work a node may do while its Ready's write is in flight (`RaftNode.readyWhileWriting`):
 * apply committed entries that are ALREADY durable here.
 *
 * One Ready is outstanding at a time, and a write to IndexedDB with strict durability takes
 * milliseconds (tens on a loaded machine). A follower learns a new commit index from the
 * leader's next append, which arrives, under a steady stream of writes, while its own write of
 * that append's entries is in flight; it then applied the entries the commit index covers only
 * after that write, though they were durable here already (written by earlier Readies). The
 * leader likewise applied (and answered its callers) only after its current write. So a
 * committed command waited one extra write on every replica before its state machine and its
 * page saw it (npm run bench -- crdt-browser: raftP50Ms).
 *
 * Entries through `persisted` are durable here, so applying them cannot get ahead of this
 * node's own log after a crash, for the reason `durableCommitted` (ready.ts) gives. Not when the
 * outstanding Ready still has entries (or a leader's snapshot) to apply after its write: those
 * come first, as the state machine must see the log in order.
 *
 * The answer is a Ready that needs no write and sends nothing (`mustPersist` false), handled like
 * any such Ready but without `advance()`: it takes nothing out of the outstanding write.
 * (Sending a leader's new appends here as well was tried, and made commits slower under the
 * crdt-browser benchmark's paced writes for a reason not yet found: left out.)
 */
import type { Raft } from './raft.ts';
import type { Entry, Ready } from './types.ts';

/** See the file comment; `mayApply` is false while the outstanding Ready has items left to apply after its write. */
export function readyWhileWriting(r: Raft, mayApply: boolean): Ready | null {
  if (!mayApply || r.log.hasPendingSnapshot()) return null;
  const committedEntries: Entry[] = r.log.takeDurableCommitted();
  if (committedEntries.length === 0) return null;
  // Counted only for a snapshot policy by bytes, as in `ready` (raft-node.ts).
  if (r.cfg.snapshotEveryBytes > 0) {
    for (let i = 0; i < committedEntries.length; i++) r.appliedBytesSinceSnapshot += (committedEntries[i] as Entry).data.byteLength;
  }
  return {
    softState: null,
    hardState: null,
    snapshot: null,
    entries: [],
    committedEntries,
    messages: [],
    readStates: [],
    droppedReads: [],
    mustPersist: false,
    messagesBeforeWrite: [],
    messagesAfterWrite: [],
    appliedBeforeWrite: committedEntries.length,
  };
}
