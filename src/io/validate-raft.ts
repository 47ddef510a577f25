/**
 * Validation of the body of a `raft` frame: from whatever the msgpack decoder produced to a
 * `Message` of the core, rebuilt field by field as a fresh object, so that nothing unchecked (an
 * extra field, a view into the frame's buffer, a prototype) ever reaches the core. The rules are
 * docs/protocol.md "Raft messages"; each failure names its field.
 *
 * Beyond types and ranges, the rules check what every correct sender guarantees and the core
 * relies on: forwarded requests carry term 0 and nothing else does (the core treats term 0 as
 * "not part of the election protocol"); an append's entries continue its `prevIndex` one index
 * apart with terms that never decrease and never exceed the message's term; a configuration is
 * sorted, repeat-free and has no member that is both voter and learner.
 *
 * Every term is at most `termMax` and every log index at most `indexMax` (2^48, codec-limits.ts):
 * a peer must not hand a node a number it cannot count up from. A term of 2^53 - 1 used to be
 * adopted from a heartbeat, and the node then stopped at its next election because term + 1 was
 * no longer a safe integer its own encoder would write.
 */
import type { Message, MessageType } from '../core/raft/messages.ts';
import { messageTypes } from '../core/raft/messages.ts';
import type { ConfState, Entry, EntryKind, NodeId, SnapshotMeta } from '../core/raft/types.ts';
import { indexMax, roundMax, termMax, type CodecLimits } from './codec-limits.ts';
import {
  checkKeys,
  describe,
  fail,
  fieldPath,
  quote,
  readBool,
  readBytes,
  readInt,
  readMap,
  readNodeId,
  type WireMap,
} from './validate-fields.ts';

export interface RaftReadContext {
  readonly limits: CodecLimits;
  /** Copy bytes out of the input (decoding); false when checking our own message (encoding). */
  readonly copyBytes: boolean;
}

/**
 * The requests a follower forwards to its leader and the leader's answer to a read. They carry
 * term 0: they are not part of the election protocol and never teach anyone a term. Every other
 * message carries its sender's term, at least 1.
 */
export const termZeroMessageTypes: ReadonlySet<MessageType> = new Set<MessageType>([
  'propose',
  'read-index',
  'read-index-response',
  'transfer-leader',
  'join',
]);

// ---- the field set of every type, checked against the core's types at compile time ----------

/** Every field of M, no more and no fewer (an object literal of this type cannot miss or add one). */
type FieldsOf<M> = { readonly [K in keyof M]-?: true };
type MessageOf<T extends MessageType> = Message extends infer M ? (M extends { readonly type: infer U } ? (T extends U ? M : never) : never) : never;

const head = { type: true, from: true, to: true, term: true } as const;

const messageFields: { readonly [T in MessageType]: FieldsOf<MessageOf<T>> } = {
  append: { ...head, prevIndex: true, prevTerm: true, entries: true, commit: true },
  'append-response': { ...head, index: true, reject: true, hintIndex: true, hintTerm: true },
  heartbeat: { ...head, commit: true, round: true },
  'heartbeat-response': { ...head, round: true },
  vote: { ...head, lastIndex: true, lastTerm: true, transfer: true },
  'pre-vote': { ...head, lastIndex: true, lastTerm: true, transfer: true },
  'vote-response': { ...head, reject: true },
  'pre-vote-response': { ...head, reject: true },
  'timeout-now': { ...head },
  propose: { ...head, data: true },
  'read-index': { ...head, requestId: true, lease: true },
  'read-index-response': { ...head, requestId: true, index: true },
  'transfer-leader': { ...head, transferee: true },
  join: { ...head, node: true },
  snapshot: { ...head, meta: true, offset: true, data: true, done: true, commit: true },
  'snapshot-response': { ...head, index: true, received: true, done: true },
};

const keysByType: ReadonlyMap<MessageType, readonly string[]> = new Map(messageTypes.map((t) => [t, Object.keys(messageFields[t])]));

const entryFields: FieldsOf<Entry> = { index: true, term: true, kind: true, data: true, config: true };
const configEntryKeys: readonly string[] = Object.keys(entryFields);
const plainEntryKeys: readonly string[] = configEntryKeys.filter((k) => k !== 'config');
const confStateKeys: readonly string[] = Object.keys({ voters: true, learners: true } satisfies FieldsOf<ConfState>);
const snapshotMetaKeys: readonly string[] = Object.keys({ index: true, term: true, config: true } satisfies FieldsOf<SnapshotMeta>);

const knownTypes: ReadonlySet<string> = new Set(messageTypes);
const entryKinds: readonly EntryKind[] = ['normal', 'empty', 'config'];

function isMessageType(type: string): type is MessageType {
  return knownTypes.has(type);
}

// ---- messages --------------------------------------------------------------------------------

/** A validated, freshly built `Message`, or a thrown `CodecError` naming the field at fault. */
export function readRaftMessage(value: unknown, ctx: RaftReadContext): Message {
  const body = readMap(value, 'body', 'INVALID_MESSAGE');
  if (!Object.hasOwn(body, 'type')) fail('INVALID_MESSAGE', 'body.type', 'missing');
  const type = body['type'];
  if (typeof type !== 'string') fail('INVALID_MESSAGE', 'body.type', `expected a string, got ${describe(type)}`);
  // A type from a newer peer is dropped and counted apart from broken messages (protocol.md "Versioning").
  if (!isMessageType(type)) fail('UNKNOWN_TYPE', 'body.type', `unknown message type ${quote(type)}`);
  checkKeys(body, keysByType.get(type) ?? [], 'body', 'INVALID_MESSAGE');
  const from = readNodeId(body['from'], 'body.from', ctx.limits, 'INVALID_MESSAGE');
  const to = readNodeId(body['to'], 'body.to', ctx.limits, 'INVALID_MESSAGE');
  const term = readInt(body, 'term', 'body', 0, termMax);
  if (termZeroMessageTypes.has(type)) {
    if (term !== 0) fail('INVALID_MESSAGE', 'body.term', `must be 0 in a forwarded ${type}, got ${term}`);
  } else if (term < 1) {
    fail('INVALID_MESSAGE', 'body.term', `must be at least 1 in ${type}, got ${term}`);
  }
  return readBody(type, body, from, to, term, ctx);
}

function readBody(type: MessageType, b: WireMap, from: NodeId, to: NodeId, term: number, ctx: RaftReadContext): Message {
  switch (type) {
    case 'append': {
      const prevIndex = readIndex(b, 'prevIndex', 'body', 0);
      const prevTerm = readTermAtMost(b, 'prevTerm', 'body', 0, term);
      const entries = readEntries(b['entries'], prevIndex, prevTerm, term, ctx);
      const commit = readIndex(b, 'commit', 'body', 0);
      return { type, from, to, term, prevIndex, prevTerm, entries, commit };
    }
    case 'append-response': {
      const index = readIndex(b, 'index', 'body', 0);
      const reject = readBool(b, 'reject', 'body');
      const hintIndex = readIndex(b, 'hintIndex', 'body', 0);
      const hintTerm = readTermAtMost(b, 'hintTerm', 'body', 0, term);
      return { type, from, to, term, index, reject, hintIndex, hintTerm };
    }
    case 'heartbeat': {
      const commit = readIndex(b, 'commit', 'body', 0);
      const round = readInt(b, 'round', 'body', 0, roundMax);
      return { type, from, to, term, commit, round };
    }
    case 'heartbeat-response':
      return { type, from, to, term, round: readInt(b, 'round', 'body', 0, roundMax) };
    case 'vote':
    case 'pre-vote': {
      const lastIndex = readIndex(b, 'lastIndex', 'body', 0);
      const lastTerm = readTermAtMost(b, 'lastTerm', 'body', 0, term);
      const transfer = readBool(b, 'transfer', 'body');
      return { type, from, to, term, lastIndex, lastTerm, transfer };
    }
    case 'vote-response':
    case 'pre-vote-response':
      return { type, from, to, term, reject: readBool(b, 'reject', 'body') };
    case 'timeout-now':
      return { type, from, to, term };
    case 'propose':
      return { type, from, to, term, data: readCommands(b['data'], ctx) };
    case 'read-index': {
      // A request id is the caller's own number, opaque to the leader: any safe integer.
      const requestId = readInt(b, 'requestId', 'body', Number.MIN_SAFE_INTEGER);
      return { type, from, to, term, requestId, lease: readBool(b, 'lease', 'body') };
    }
    case 'read-index-response': {
      const requestId = readInt(b, 'requestId', 'body', Number.MIN_SAFE_INTEGER);
      // -1: the leader dropped the read.
      return { type, from, to, term, requestId, index: readIndex(b, 'index', 'body', -1) };
    }
    case 'transfer-leader':
      return { type, from, to, term, transferee: readNodeId(b['transferee'], 'body.transferee', ctx.limits, 'INVALID_MESSAGE') };
    case 'join':
      return { type, from, to, term, node: readNodeId(b['node'], 'body.node', ctx.limits, 'INVALID_MESSAGE') };
    case 'snapshot':
      return readSnapshot(b, from, to, term, ctx);
    case 'snapshot-response': {
      const index = readIndex(b, 'index', 'body', 0);
      const received = readInt(b, 'received', 'body', 0, ctx.limits.snapshotBytesMax);
      return { type, from, to, term, index, received, done: readBool(b, 'done', 'body') };
    }
    default: {
      const never: never = type;
      return never;
    }
  }
}

/** A log index (or commit index) in [min, indexMax]. */
function readIndex(map: WireMap, key: string, parent: string, min: number): number {
  return readInt(map, key, parent, min, indexMax);
}

/** A term in [min, term of the message]: nobody knows of a term beyond its own (nor beyond `termMax`). */
function readTermAtMost(map: WireMap, key: string, parent: string, min: number, messageTerm: number): number {
  const value = readInt(map, key, parent, min, termMax);
  if (value > messageTerm) fail('INVALID_MESSAGE', fieldPath(parent, key), `${value} exceeds the message's term ${messageTerm}`);
  return value;
}

function readSnapshot(b: WireMap, from: NodeId, to: NodeId, term: number, ctx: RaftReadContext): Message {
  const { limits } = ctx;
  const meta = readSnapshotMeta(b['meta'], term, ctx);
  const offset = readInt(b, 'offset', 'body', 0, limits.snapshotBytesMax);
  const data = readBytes(b['data'], 'body.data', limits.snapshotChunkBytesMax, ctx.copyBytes);
  if (offset + data.byteLength > limits.snapshotBytesMax) {
    fail('INVALID_MESSAGE', 'body.offset', `chunk ends at byte ${offset + data.byteLength}, beyond snapshotBytesMax (${limits.snapshotBytesMax})`);
  }
  const done = readBool(b, 'done', 'body');
  const commit = readIndex(b, 'commit', 'body', 0);
  return { type: 'snapshot', from, to, term, meta, offset, data, done, commit };
}

function readSnapshotMeta(value: unknown, term: number, ctx: RaftReadContext): SnapshotMeta {
  const field = 'body.meta';
  const meta = readMap(value, field, 'INVALID_MESSAGE');
  checkKeys(meta, snapshotMetaKeys, field, 'INVALID_MESSAGE');
  // A snapshot covers at least one entry, so it ends at index 1 or later, in term 1 or later.
  const index = readIndex(meta, 'index', field, 1);
  const metaTerm = readTermAtMost(meta, 'term', field, 1, term);
  return { index, term: metaTerm, config: readConfState(meta['config'], `${field}.config`, ctx) };
}

// ---- entries and configurations --------------------------------------------------------------

function readEntries(value: unknown, prevIndex: number, prevTerm: number, term: number, ctx: RaftReadContext): Entry[] {
  const field = 'body.entries';
  if (!Array.isArray(value)) fail('INVALID_MESSAGE', field, `expected an array, got ${describe(value)}`);
  const max = ctx.limits.entriesPerFrameMax;
  if (value.length > max) fail('INVALID_MESSAGE', field, `${value.length} entries, more than entriesPerFrameMax (${max})`);
  const entries: Entry[] = [];
  let termBefore = prevTerm;
  for (let i = 0; i < value.length; i++) {
    const path = `${field}[${i}]`;
    const e = readMap(value[i], path, 'INVALID_MESSAGE');
    const kind = readKind(e, path);
    checkKeys(e, kind === 'config' ? configEntryKeys : plainEntryKeys, path, 'INVALID_MESSAGE');
    const index = readIndex(e, 'index', path, 1);
    if (index !== prevIndex + 1 + i) {
      fail('INVALID_MESSAGE', `${path}.index`, `expected ${prevIndex + 1 + i}, got ${index} (entries follow prevIndex ${prevIndex} one index apart)`);
    }
    const entryTerm = readTermAtMost(e, 'term', path, 1, term);
    if (entryTerm < termBefore) {
      fail('INVALID_MESSAGE', `${path}.term`, `${entryTerm} is below the term before it (${termBefore}); terms never decrease along a log`);
    }
    termBefore = entryTerm;
    // Command payloads are opaque bytes: checked for type and size, never decoded here.
    const data = readBytes(e['data'], `${path}.data`, ctx.limits.entryDataBytesMax, ctx.copyBytes);
    if (kind === 'config') {
      entries.push({ index, term: entryTerm, kind, data, config: readConfState(e['config'], `${path}.config`, ctx) });
    } else {
      entries.push({ index, term: entryTerm, kind, data });
    }
  }
  return entries;
}

function readKind(e: WireMap, path: string): EntryKind {
  if (!Object.hasOwn(e, 'kind')) fail('INVALID_MESSAGE', `${path}.kind`, 'missing');
  const kind = e['kind'];
  const found = entryKinds.find((k) => k === kind);
  if (found === undefined) fail('INVALID_MESSAGE', `${path}.kind`, `expected "normal", "empty" or "config", got ${describe(kind)}`);
  return found;
}

function readCommands(value: unknown, ctx: RaftReadContext): Uint8Array[] {
  const field = 'body.data';
  if (!Array.isArray(value)) fail('INVALID_MESSAGE', field, `expected an array of commands, got ${describe(value)}`);
  const max = ctx.limits.entriesPerFrameMax;
  if (value.length > max) fail('INVALID_MESSAGE', field, `${value.length} commands, more than entriesPerFrameMax (${max})`);
  const commands: Uint8Array[] = [];
  for (let i = 0; i < value.length; i++) {
    commands.push(readBytes(value[i], `${field}[${i}]`, ctx.limits.entryDataBytesMax, ctx.copyBytes));
  }
  return commands;
}

/** Voters and learners: sorted, no repeats, no member in both, at most `confMembersMax` in all. */
function readConfState(value: unknown, field: string, ctx: RaftReadContext): ConfState {
  const conf = readMap(value, field, 'INVALID_MESSAGE');
  checkKeys(conf, confStateKeys, field, 'INVALID_MESSAGE');
  const rawVoters = conf['voters'];
  const rawLearners = conf['learners'];
  if (!Array.isArray(rawVoters)) fail('INVALID_MESSAGE', `${field}.voters`, `expected an array, got ${describe(rawVoters)}`);
  if (!Array.isArray(rawLearners)) fail('INVALID_MESSAGE', `${field}.learners`, `expected an array, got ${describe(rawLearners)}`);
  const max = ctx.limits.confMembersMax;
  if (rawVoters.length + rawLearners.length > max) {
    fail('INVALID_MESSAGE', field, `${rawVoters.length + rawLearners.length} members, more than confMembersMax (${max})`);
  }
  const voters = readMembers(rawVoters, `${field}.voters`, ctx);
  const learners = readMembers(rawLearners, `${field}.learners`, ctx);
  const voterSet = new Set(voters);
  for (let i = 0; i < learners.length; i++) {
    if (voterSet.has(learners[i] as string)) fail('INVALID_MESSAGE', `${field}.learners[${i}]`, 'is also a voter');
  }
  return { voters, learners };
}

function readMembers(raw: readonly unknown[], field: string, ctx: RaftReadContext): NodeId[] {
  const members: NodeId[] = [];
  for (let i = 0; i < raw.length; i++) {
    const id = readNodeId(raw[i], `${field}[${i}]`, ctx.limits, 'INVALID_MESSAGE');
    // Sorted as the core sorts (Array.prototype.sort: UTF-16 code unit order), strictly: no repeats.
    if (i > 0 && !((members[i - 1] as string) < id)) {
      fail('INVALID_MESSAGE', `${field}[${i}]`, 'members must be in ascending order (UTF-16 code units) without repeats');
    }
    members.push(id);
  }
  return members;
}
