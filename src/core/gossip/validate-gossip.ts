/**
 * The validator of gossip messages: from whatever a decoder produced (or whatever a test or a
 * hostile peer hands the engine) to a `GossipMessage`, rebuilt field by field as a fresh object,
 * so nothing unchecked (an extra field, a prototype, a huge array, an unsafe integer) reaches the
 * engine. It lives in the core, not in src/io like validate-raft.ts, because the engine runs it
 * again on every message it steps (defence in depth, as the Raft core re-checks `termMax`), and
 * the core may not import src/io; a wire codec for the family calls it after msgpack.
 *
 * It NEVER throws: a refusal is a value with a code (counted per code by the engine), the field
 * at fault and why. Counts are checked BEFORE the elements are walked, lengths before strings are.
 *
 * Beyond types: every incarnation is at most `incarnationMax` and every seq at most `seqMax`
 * (limits.ts; a peer must not hand a node a number it cannot count up from); arrays are within
 * `updatesPerMessageMax` and `syncEntriesPerMessageMax`; ids are printable and at most
 * `memberIdUnitsMax` long; a ping-req or nack does not name its own sender or receiver as target;
 * a sync names each member once.
 */
import { isCrdtTypeName, type CrdtTypeName } from '../crdt/crdt-type-name.ts';
import { valueBytesMax, wireDepthMax } from '../crdt/limits.ts';
import { describeTextProblem, textProblem } from '../crdt/text.ts';
import type { WireValue } from '../crdt/wire-reader.ts';
import { err, ok, type Result } from '../result.ts';
import {
  gossipMessageTypes,
  memberUpdateKinds,
  type GossipMessage,
  type GossipMessageType,
  type MemberUpdate,
  type MemberUpdateKind,
  type Piggyback,
  type SyncEntry,
  type SyncState,
  syncStates,
  type CrdtRef,
  type DeltaItem,
  type StateItem,
} from './messages.ts';
import {
  crdtNameBytesMax,
  dataItemsPerMessageMax,
  dataValuesPerMessageMax,
  deltaTtlHopsMax,
  incarnationMax,
  memberIdUnitsMax,
  seqMax,
  syncEntriesPerMessageMax,
  updatesPerMessageMax,
  wantPerMessageMax,
} from './limits.ts';
import type { NodeId } from './types.ts';

export const gossipRefusalCodes = [
  /** Not a plain map (an array, a class instance, null, a scalar). */
  'NOT_A_MAP',
  /** A `type` (or an update's `kind`) this node does not know: a newer peer's, dropped apart from broken ones. */
  'UNKNOWN_TYPE',
  /** A field missing, or one the type does not have. */
  'BAD_FIELDS',
  /** A field of the wrong type (a string for a number, a float, a non-boolean flag). */
  'BAD_VALUE',
  /** An integer outside its range: negative, unsafe, an incarnation above `incarnationMax`, a seq above `seqMax`. */
  'OUT_OF_RANGE',
  /** An id that is empty, too long, or holds unprintable characters. */
  'BAD_ID',
  /** An array longer than the protocol allows. */
  'TOO_MANY_ITEMS',
  /** Fields that contradict each other (a ping-req whose target is its own sender, a sync naming a member twice). */
  'INCONSISTENT',
] as const;

export type GossipRefusalCode = (typeof gossipRefusalCodes)[number];

export interface GossipRefusal {
  readonly code: GossipRefusalCode;
  /** The field at fault, as a path (`updates[3].incarnation`), or '' for the message as a whole. */
  readonly field: string;
  readonly problem: string;
}

class Refused extends Error {
  constructor(readonly refusal: GossipRefusal) {
    super(refusal.problem);
  }
}

function refuse(code: GossipRefusalCode, field: string, problem: string): never {
  throw new Refused({ code, field, problem });
}

type WireMap = Readonly<Record<string, unknown>>;

const head = ['type', 'from', 'to'] as const;
const fieldsByType: { readonly [T in GossipMessageType]: readonly string[] } = {
  ping: [...head, 'seq', 'mesh', 'updates'],
  ack: [...head, 'seq', 'updates'],
  'ping-req': [...head, 'seq', 'target', 'updates'],
  nack: [...head, 'seq', 'target'],
  push: [...head, 'updates'],
  join: [...head, 'incarnation'],
  sync: [...head, 'members', 'wantReply'],
  graft: [...head],
  prune: [...head],
  leave: [...head, 'incarnation'],
  'crdt-push': [...head, 'deltas'],
  'crdt-merkle': [...head, 'exchange', 'message'],
  'crdt-states': [...head, 'exchange', 'states', 'want'],
};
const deltaFields: readonly string[] = ['name', 'crdt', 'ttl', 'state'];
const stateFields: readonly string[] = ['name', 'crdt', 'state'];
const refFields: readonly string[] = ['name', 'crdt'];
const fieldsByKind: { readonly [K in MemberUpdateKind]: readonly string[] } = {
  alive: ['kind', 'member', 'incarnation'],
  suspect: ['kind', 'member', 'incarnation', 'by'],
  dead: ['kind', 'member', 'incarnation', 'by'],
  left: ['kind', 'member', 'incarnation'],
};
const syncEntryFields: readonly string[] = ['member', 'incarnation', 'state'];
const knownTypes: ReadonlySet<string> = new Set(gossipMessageTypes);
const knownKinds: ReadonlySet<string> = new Set(memberUpdateKinds);

/** A validated, freshly built message, or why not. NEVER throws. */
export function readGossipMessage(value: unknown): Result<GossipMessage, GossipRefusal> {
  try {
    return ok(readMessage(value));
  } catch (e) {
    if (e instanceof Refused) return err(e.refusal);
    // Nothing above should throw anything else; if it does, input is still no reason to crash.
    return err({ code: 'BAD_VALUE', field: '', problem: 'unreadable message' });
  }
}

function readMessage(value: unknown): GossipMessage {
  const body = readMap(value, '');
  const type = body['type'];
  if (typeof type !== 'string') refuse('BAD_FIELDS', 'type', 'missing or not a string');
  if (!knownTypes.has(type)) refuse('UNKNOWN_TYPE', 'type', `unknown message type ${quote(type)}`);
  const t = type as GossipMessageType;
  checkKeys(body, fieldsByType[t], '');
  const from = readId(body['from'], 'from');
  const to = readId(body['to'], 'to');
  switch (t) {
    case 'ping': {
      const mesh = body['mesh'];
      if (typeof mesh !== 'boolean') refuse('BAD_VALUE', 'mesh', 'expected a boolean');
      return { type: t, from, to, seq: readSeq(body, 'seq'), mesh, updates: readUpdates(body['updates'], 'updates') };
    }
    case 'ack':
      return { type: t, from, to, seq: readSeq(body, 'seq'), updates: readUpdates(body['updates'], 'updates') };
    case 'ping-req': {
      const target = readTarget(body, from, to);
      return { type: t, from, to, seq: readSeq(body, 'seq'), target, updates: readUpdates(body['updates'], 'updates') };
    }
    case 'nack': {
      const target = readTarget(body, from, to);
      return { type: t, from, to, seq: readSeq(body, 'seq'), target };
    }
    case 'push':
      return { type: t, from, to, updates: readUpdates(body['updates'], 'updates') };
    case 'join':
    case 'leave':
      return { type: t, from, to, incarnation: readInt(body, 'incarnation', '', incarnationMax) };
    case 'sync': {
      const wantReply = body['wantReply'];
      if (typeof wantReply !== 'boolean') refuse('BAD_VALUE', 'wantReply', 'expected a boolean');
      return { type: t, from, to, members: readSyncEntries(body['members']), wantReply };
    }
    case 'graft':
    case 'prune':
      return { type: t, from, to };
    case 'crdt-push': {
      const budget = { left: dataValuesPerMessageMax };
      const deltas = readItems(body['deltas'], 'deltas', dataItemsPerMessageMax, deltaFields, (item, field): DeltaItem => {
        const ref = readRef(item, field);
        return { ...ref, ttl: readInt(item, 'ttl', field, deltaTtlHopsMax), state: readWireState(item['state'], `${field}.state`, budget, 1) };
      });
      return { type: t, from, to, deltas };
    }
    case 'crdt-merkle': {
      const budget = { left: dataValuesPerMessageMax };
      return { type: t, from, to, exchange: readSeq(body, 'exchange'), message: readWireState(body['message'], 'message', budget, 1) };
    }
    case 'crdt-states': {
      const budget = { left: dataValuesPerMessageMax };
      const exchange = readSeq(body, 'exchange');
      const states = readItems(body['states'], 'states', dataItemsPerMessageMax, stateFields, (item, field): StateItem => {
        return { ...readRef(item, field), state: readWireState(item['state'], `${field}.state`, budget, 1) };
      });
      const want = readItems(body['want'], 'want', wantPerMessageMax, refFields, readRef);
      return { type: t, from, to, exchange, states, want };
    }
    default: {
      const never: never = t;
      return never;
    }
  }
}

function readTarget(body: WireMap, from: NodeId, to: NodeId): NodeId {
  const target = readId(body['target'], 'target');
  if (target === from || target === to) refuse('INCONSISTENT', 'target', 'names the sender or the receiver');
  return target;
}

function readUpdates(value: unknown, field: string): Piggyback[] {
  if (!Array.isArray(value)) refuse('BAD_VALUE', field, 'expected an array');
  if (value.length > updatesPerMessageMax) refuse('TOO_MANY_ITEMS', field, `${value.length} updates, more than ${updatesPerMessageMax}`);
  return value.map((u: unknown, i) => readUpdate(u, `${field}[${i}]`));
}

function readUpdate(value: unknown, field: string): MemberUpdate {
  const u = readMap(value, field);
  const kind = u['kind'];
  if (typeof kind !== 'string') refuse('BAD_FIELDS', `${field}.kind`, 'missing or not a string');
  if (!knownKinds.has(kind)) refuse('UNKNOWN_TYPE', `${field}.kind`, `unknown update kind ${quote(kind)}`);
  const k = kind as MemberUpdateKind;
  checkKeys(u, fieldsByKind[k], field);
  const member = readId(u['member'], `${field}.member`);
  const incarnation = readInt(u, 'incarnation', field, incarnationMax);
  switch (k) {
    case 'alive':
    case 'left':
      return { kind: k, member, incarnation };
    case 'suspect':
    case 'dead':
      return { kind: k, member, incarnation, by: readId(u['by'], `${field}.by`) };
    default: {
      const never: never = k;
      return never;
    }
  }
}

function readSyncEntries(value: unknown): SyncEntry[] {
  if (!Array.isArray(value)) refuse('BAD_VALUE', 'members', 'expected an array');
  if (value.length > syncEntriesPerMessageMax) refuse('TOO_MANY_ITEMS', 'members', `${value.length} members, more than ${syncEntriesPerMessageMax}`);
  const seen = new Set<NodeId>();
  return value.map((e: unknown, i) => {
    const field = `members[${i}]`;
    const entry = readMap(e, field);
    checkKeys(entry, syncEntryFields, field);
    const member = readId(entry['member'], `${field}.member`);
    if (seen.has(member)) refuse('INCONSISTENT', `${field}.member`, 'named twice');
    seen.add(member);
    const state = entry['state'];
    if (!(syncStates as readonly unknown[]).includes(state)) refuse('BAD_VALUE', `${field}.state`, `expected one of ${syncStates.join(', ')}`);
    return { member, incarnation: readInt(entry, 'incarnation', field, incarnationMax), state: state as SyncState };
  });
}

// ---- the data plane's items ---------------------------------------------------------------------

/** A bounded array of maps with exactly `keys`, each read by `read`. Counted before walked. */
function readItems<T>(value: unknown, field: string, itemsMax: number, keys: readonly string[], read: (item: WireMap, field: string) => T): T[] {
  if (!Array.isArray(value)) refuse('BAD_VALUE', field, 'expected an array');
  if (value.length > itemsMax) refuse('TOO_MANY_ITEMS', field, `${value.length} items, more than ${itemsMax}`);
  return value.map((v: unknown, i) => {
    const at = `${field}[${i}]`;
    const item = readMap(v, at);
    checkKeys(item, keys, at);
    return read(item, at);
  });
}

/** A CRDT's name and type: a name of 1 to `crdtNameBytesMax` bytes of well-formed text, a type of the registry. */
function readRef(item: WireMap, field: string): CrdtRef {
  const name = item['name'];
  if (typeof name !== 'string') refuse('BAD_VALUE', `${field}.name`, 'expected a string');
  // Length first: a name of megabytes is refused before it is walked.
  if (name.length > crdtNameBytesMax) refuse('BAD_VALUE', `${field}.name`, `longer than ${crdtNameBytesMax} bytes`);
  const problem = textProblem(name, crdtNameBytesMax, false);
  if (problem !== null) refuse('BAD_VALUE', `${field}.name`, describeTextProblem(problem, crdtNameBytesMax));
  const crdt = item['crdt'];
  if (typeof crdt !== 'string') refuse('BAD_FIELDS', `${field}.crdt`, 'missing or not a string');
  // A type this node does not know is a newer peer's: dropped apart from broken input, as a newer message type.
  if (!isCrdtTypeName(crdt)) refuse('UNKNOWN_TYPE', `${field}.crdt`, `unknown CRDT type ${quote(crdt)}`);
  return { name, crdt: crdt satisfies CrdtTypeName };
}

/**
 * An encoded state (or Merkle message) copied as a fresh plain value: arrays, strings, finite
 * numbers, booleans and null only, nested at most `wireDepthMax` deep, with at most
 * `budget.left` values in the whole message (one budget for all its states, as the codec's
 * values-per-frame bound). An array is counted against the budget BEFORE it is walked, so a
 * million-element array costs one comparison. Whether the copy is a valid state of its type is
 * the registry's `decode`'s to say, when the engine merges it (typed refusals, counted there).
 */
function readWireState(value: unknown, field: string, budget: { left: number }, depth: number): WireValue {
  if (budget.left < 1) refuse('TOO_MANY_ITEMS', field, `more than ${dataValuesPerMessageMax} values of state in one message`);
  budget.left--;
  if (!Array.isArray(value)) return readWireScalar(value, field);
  if (depth > wireDepthMax) refuse('BAD_VALUE', field, `a state nests at most ${wireDepthMax} arrays deep`);
  if (value.length > budget.left) refuse('TOO_MANY_ITEMS', field, `more than ${dataValuesPerMessageMax} values of state in one message`);
  const out: WireValue[] = new Array<WireValue>(value.length);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (Array.isArray(item)) {
      out[i] = readWireState(item, `${field}[${i}]`, budget, depth + 1);
    } else {
      budget.left--;
      out[i] = readWireScalar(item, field, i);
    }
  }
  return out;
}

function readWireScalar(value: unknown, field: string, index = -1): WireValue {
  // No string of any state is longer than a register's value (valueBytesMax bytes, so as many UTF-16 units at most).
  if (typeof value === 'string' && value.length <= valueBytesMax) return value;
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const at = index < 0 ? field : `${field}[${index}]`;
  refuse('BAD_VALUE', at, `a state holds only arrays, strings (up to ${valueBytesMax} units), finite numbers, booleans and null`);
}

// ---- fields ------------------------------------------------------------------------------------

function readMap(value: unknown, field: string): WireMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse('NOT_A_MAP', field, 'expected a map');
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) refuse('NOT_A_MAP', field, 'expected a plain map');
  return value as WireMap;
}

function checkKeys(map: WireMap, keys: readonly string[], field: string): void {
  for (const key of keys) if (!Object.hasOwn(map, key)) refuse('BAD_FIELDS', join(field, key), 'missing');
  // Counted, not walked: a map of a million keys is refused on its size.
  const own = Object.keys(map);
  if (own.length !== keys.length) refuse('BAD_FIELDS', field, `${own.length} fields, expected ${keys.length}`);
}

function readInt(map: WireMap, key: string, parent: string, max: number): number {
  const value = map[key];
  if (typeof value !== 'number' || !Number.isInteger(value)) refuse('BAD_VALUE', join(parent, key), 'expected an integer');
  if (!Number.isSafeInteger(value) || value < 0 || value > max) refuse('OUT_OF_RANGE', join(parent, key), `must be in [0, ${max}]`);
  return value === 0 ? 0 : value;
}

function readSeq(map: WireMap, key: string): number {
  const seq = readInt(map, key, '', seqMax);
  if (seq === 0) refuse('OUT_OF_RANGE', key, 'must be at least 1');
  return seq;
}

/** Whether `value` is a valid member id (local inputs are checked by the same rule as the wire). */
export function isMemberId(value: unknown): value is NodeId {
  try {
    readId(value, 'id');
    return true;
  } catch {
    return false;
  }
}

/** A member id: 1 to `memberIdUnitsMax` UTF-16 units, all printable (no controls, no bidi overrides, no lone surrogates). */
function readId(value: unknown, field: string): NodeId {
  if (typeof value !== 'string') refuse('BAD_ID', field, 'expected a string');
  if (value.length === 0 || value.length > memberIdUnitsMax) refuse('BAD_ID', field, `length must be in [1, ${memberIdUnitsMax}]`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) refuse('BAD_ID', field, `lone surrogate at ${i}`);
      i++;
    } else if (!isPrintableUnit(c)) {
      refuse('BAD_ID', field, `unprintable character U+${c.toString(16).padStart(4, '0')} at ${i}`);
    }
  }
  return value;
}

function isPrintableUnit(c: number): boolean {
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false; // C0, DEL, C1
  if (c >= 0xdc00 && c <= 0xdfff) return false; // a low surrogate alone
  if (c === 0x200e || c === 0x200f || c === 0x2028 || c === 0x2029) return false; // marks, separators
  if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return false; // bidi controls
  return c !== 0xfeff; // byte order mark
}

function join(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** A peer-chosen string for a message: truncated, escaped. */
function quote(text: string): string {
  return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}...` : text);
}
