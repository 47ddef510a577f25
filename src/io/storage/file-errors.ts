/**
 * The two ways the file log refuses to open, as named `StorageError`s (code `STORAGE`, the one
 * union of src/core/error-code.ts: a user sees "storage failed, the node stopped"; the class and
 * `reason` say which, for code and tests that must tell them apart; `name` stays `StorageError`,
 which storage.ts fixes).
 *
 * - corrupt: a checksum failure with valid records after it, in a segment that is not the last,
 *   a missing segment, a snapshot file that does not match its record... anything recovery may
 *   not repair by cutting a torn tail. Refusing is the point: skipping a bad record in the middle
 *   would boot a node that forgot an entry or a vote it acknowledged, and Raft's safety rests on
 *   those (thesis §3.8: "a server must persist ... before responding").
 * - locked: another process (or another handle of this one) has the directory open; two writers
 *   interleaving appends in one log would corrupt it.
 */
import { StorageError } from './storage.ts';

export class FileLogCorruptError extends StorageError {
  readonly reason = 'corrupt';
}

export class FileLogLockedError extends StorageError {
  readonly reason = 'locked';
}
