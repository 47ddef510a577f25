/**
 * The BFT engine's guard against peers' input (STYLE.md: every peer is a stranger until
 * authenticated, and even then may be Byzantine). Every message is checked for shape (a plain
 * map with exactly its fields), types, safe integers within the protocol's ranges (limits.ts),
 * counts and sizes, ids and digests, BEFORE a field reaches the engine; a refusal is a typed code,
 * counted by the engine, never a throw. The codec did this already (defence in depth, and the
 * guard for hosts without one). What depends on the replica's state (views, watermarks,
 * signatures) is the engine's to check, and counted there.
 */
import { err, ok, type Result } from '../result.ts';
import type { BftRefusalCode } from './counters.ts';
import {
  digestChars,
  idUnitsMax,
  opBytesMax,
  replicasMax,
  requestsPerBatchMax,
  resultBytesMax,
  seqMax,
  signatureBytesMax,
  timestampMax,
  viewMax,
  voteIdUnitsMax,
  voteProposalBytesMax,
  voteValueBytesMax,
  watermarkWindowSeqsMax,
  batchBytesCeiling,
} from './limits.ts';
import type { ReplicaMessage } from './messages.ts';

export interface BftRefusal {
  readonly code: BftRefusalCode;
  readonly detail: string;
}

class Refusal {
  constructor(readonly code: BftRefusalCode, readonly detail: string) {}
}

type Obj = Record<string, unknown>;

function map(v: unknown, fields: readonly string[], what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) throw new Refusal('NOT_A_MAP', what);
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw new Refusal('NOT_A_MAP', what);
  const keys = Object.keys(v);
  if (keys.length !== fields.length || !fields.every((f) => Object.hasOwn(v, f))) throw new Refusal('BAD_FIELDS', what);
  return v as Obj;
}

function int(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Refusal('BAD_VALUE', what);
  if (v < min || v > max) throw new Refusal('OUT_OF_RANGE', what);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new Refusal('BAD_VALUE', what);
  return v;
}

function bytes(v: unknown, max: number, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Refusal('BAD_VALUE', what);
  if (v.length > max) throw new Refusal('TOO_LARGE', what);
  return v;
}

function id(v: unknown, what: string, unitsMax = idUnitsMax): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > unitsMax) throw new Refusal('BAD_ID', what);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) throw new Refusal('BAD_ID', what);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = v.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw new Refusal('BAD_ID', what);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) throw new Refusal('BAD_ID', what);
  }
  return v;
}

const hex = /^[0-9a-f]+$/;
function digest(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length !== digestChars || !hex.test(v)) throw new Refusal('BAD_DIGEST', what);
  return v;
}

function list(v: unknown, max: number, what: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new Refusal('BAD_VALUE', what);
  if (v.length > max) throw new Refusal('TOO_MANY_ITEMS', what);
  return v;
}

const sig = (v: unknown, what: string): Uint8Array => bytes(v, signatureBytesMax, what);

function request(v: unknown): void {
  const r = map(v, ['client', 'timestamp', 'op', 'readOnly', 'signature', 'digest'], 'request');
  id(r.client, 'client');
  int(r.timestamp, 1, timestampMax, 'timestamp');
  bytes(r.op, opBytesMax, 'op');
  bool(r.readOnly, 'readOnly');
  sig(r.signature, 'request signature');
  digest(r.digest, 'request digest');
}

function batch(v: unknown): void {
  const rs = list(v, requestsPerBatchMax, 'requests');
  let total = 0;
  for (const r of rs) {
    request(r);
    total += (r as { op: Uint8Array }).op.length;
  }
  if (total > batchBytesCeiling) throw new Refusal('TOO_LARGE', 'batch bytes');
}

function header(v: unknown): { seq: number } {
  const h = map(v, ['view', 'seq', 'digest', 'signature'], 'pre-prepare header');
  int(h.view, 0, viewMax, 'view');
  const seq = int(h.seq, 1, seqMax, 'seq');
  digest(h.digest, 'digest');
  sig(h.signature, 'pre-prepare signature');
  return { seq };
}

function checkpoint(v: unknown): void {
  const c = map(v, ['replica', 'seq', 'stateDigest', 'signature'], 'checkpoint');
  id(c.replica, 'replica');
  int(c.seq, 1, seqMax, 'checkpoint seq');
  digest(c.stateDigest, 'state digest');
  sig(c.signature, 'checkpoint signature');
}

function viewChange(v: unknown): void {
  const vc = map(v, ['body', 'signature'], 'view-change');
  sig(vc.signature, 'view-change signature');
  const b = map(vc.body, ['newView', 'replica', 'checkpoint', 'prepared'], 'view-change body');
  int(b.newView, 1, viewMax, 'newView');
  id(b.replica, 'replica');
  if (b.checkpoint !== null) {
    const c = map(b.checkpoint, ['seq', 'stateDigest', 'proofs'], 'checkpoint certificate');
    int(c.seq, 1, seqMax, 'checkpoint seq');
    digest(c.stateDigest, 'state digest');
    for (const p of list(c.proofs, replicasMax, 'proofs')) checkpoint(p);
  }
  for (const p of list(b.prepared, watermarkWindowSeqsMax, 'prepared')) {
    const c = map(p, ['prePrepare', 'requests', 'prepares'], 'prepared certificate');
    header(c.prePrepare);
    batch(c.requests);
    for (const x of list(c.prepares, replicasMax, 'prepares')) {
      const s = map(x, ['replica', 'signature'], 'prepare');
      id(s.replica, 'replica');
      sig(s.signature, 'prepare signature');
    }
  }
}

function body(m: Obj): void {
  switch (m.type) {
    case 'request':
      request(m.request);
      return;
    case 'pre-prepare':
      header(m.header);
      batch(m.requests);
      return;
    case 'prepare':
    case 'commit':
      int(m.view, 0, viewMax, 'view');
      int(m.seq, 1, seqMax, 'seq');
      digest(m.digest, 'digest');
      if (m.type === 'prepare') sig(m.signature, 'prepare signature');
      return;
    case 'checkpoint':
      checkpoint(m.checkpoint);
      return;
    case 'view-change':
      viewChange(m.viewChange);
      return;
    case 'new-view': {
      int(m.view, 1, viewMax, 'view');
      for (const vc of list(m.viewChanges, replicasMax, 'viewChanges')) viewChange(vc);
      let last = 0;
      for (const p of list(m.prePrepares, watermarkWindowSeqsMax, 'prePrepares')) {
        const o = map(p, ['header', 'requests'], 'new-view pre-prepare');
        const { seq } = header(o.header);
        if (seq <= last) throw new Refusal('INCONSISTENT', 'new-view seqs not increasing');
        last = seq;
        batch(o.requests);
      }
      return;
    }
    case 'vote-request':
      id(m.voteId, 'voteId', voteIdUnitsMax);
      bytes(m.proposal, voteProposalBytesMax, 'proposal');
      return;
    case 'vote-answer':
      id(m.voteId, 'voteId', voteIdUnitsMax);
      bytes(m.value, voteValueBytesMax, 'value');
      return;
    case 'status':
      int(m.view, 0, viewMax, 'view');
      bool(m.viewChanging, 'viewChanging');
      int(m.lastExecutedSeq, 0, seqMax, 'lastExecutedSeq');
      int(m.stableSeq, 0, seqMax, 'stableSeq');
      return;
  }
}

const fieldsOf: Record<string, readonly string[]> = {
  request: ['request'],
  'pre-prepare': ['header', 'requests'],
  prepare: ['view', 'seq', 'digest', 'signature'],
  commit: ['view', 'seq', 'digest'],
  checkpoint: ['checkpoint'],
  'view-change': ['viewChange'],
  'new-view': ['view', 'viewChanges', 'prePrepares'],
  'vote-request': ['voteId', 'proposal'],
  'vote-answer': ['voteId', 'value'],
  status: ['view', 'viewChanging', 'lastExecutedSeq', 'stableSeq'],
};

/** Check a replica's input message; a refusal names its code. Never throws. */
export function readBftMessage(input: unknown): Result<ReplicaMessage, BftRefusal> {
  try {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Refusal('NOT_A_MAP', 'message');
    const proto: unknown = Object.getPrototypeOf(input);
    if (proto !== Object.prototype && proto !== null) throw new Refusal('NOT_A_MAP', 'message');
    const type = (input as Obj).type;
    if (typeof type !== 'string') throw new Refusal('BAD_FIELDS', 'type');
    const fields = fieldsOf[type];
    if (!Object.hasOwn(fieldsOf, type) || fields === undefined) throw new Refusal('UNKNOWN_TYPE', type.slice(0, 32));
    const m = map(input, ['type', 'from', 'to', ...fields], type);
    id(m.from, 'from');
    id(m.to, 'to');
    body(m);
    return ok(input as ReplicaMessage);
  } catch (e) {
    if (e instanceof Refusal) return err({ code: e.code, detail: e.detail });
    // Anything else (a getter that throws, a proxy) is a hostile object: refuse it as not a map.
    return err({ code: 'NOT_A_MAP', detail: 'unreadable' });
  }
}

/** A client's reply check (for BftClient). */
export function readReplyMessage(input: unknown): Result<true, BftRefusal> {
  try {
    const m = map(input, ['type', 'from', 'to', 'view', 'timestamp', 'readOnly', 'outcome', 'result'], 'reply');
    if (m.type !== 'reply') throw new Refusal('UNKNOWN_TYPE', 'not a reply');
    id(m.from, 'from');
    id(m.to, 'to');
    int(m.view, 0, viewMax, 'view');
    int(m.timestamp, 1, timestampMax, 'timestamp');
    bool(m.readOnly, 'readOnly');
    if (m.outcome !== 'ok' && m.outcome !== 'rejected') throw new Refusal('BAD_VALUE', 'outcome');
    bytes(m.result, resultBytesMax, 'result');
    return ok(true);
  } catch (e) {
    if (e instanceof Refusal) return err({ code: e.code, detail: e.detail });
    return err({ code: 'NOT_A_MAP', detail: 'unreadable' });
  }
}
