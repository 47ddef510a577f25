/**
 * The local updates a node's host may make to a CRDT it holds, as data (like the OR-Map's
 * `OrMapOp`), so that a page can send one to its worker and the engine takes it through `step`.
 * Each op names its CRDT's type; `crdtDelta` turns it into the type's delta mutator's result
 * (Almeida et al. 2018 §4: a mutation returns a delta, itself a state, that the engine merges
 * into its own state and ships to others).
 *
 * An op comes from the application, not from a peer, but the application may be plain
 * JavaScript behind comlink: its shape is checked (a typed refusal, never a throw) before a
 * mutator sees it; the mutators check the values (integers, key and value bounds).
 */
import { orMapApply, type OrMapOp } from '../crdt/or-map.ts';
import { crdtTypeNames, isCrdtTypeName, type CrdtTypeName } from '../crdt/crdt-type-name.ts';
import { gCounterIncrement, type GCounter } from '../crdt/g-counter.ts';
import { lwwWrite, type LwwRegister } from '../crdt/lww-register.ts';
import { nestingDepthMax } from '../crdt/limits.ts';
import { mvWrite, type MvRegister } from '../crdt/mv-register.ts';
import { orSetAdd, orSetClear, orSetRemove, type OrSet } from '../crdt/or-set.ts';
import type { OrMap } from '../crdt/or-map.ts';
import { pnCounterDecrement, pnCounterIncrement, type PnCounter } from '../crdt/pn-counter.ts';
import { argumentRefusal, type CrdtRefusal } from '../crdt/refusal.ts';
import type { Scalar } from '../crdt/scalar.ts';
import type { ReplicaId } from '../crdt/version-vector.ts';
import { err, ok, type Result } from '../result.ts';

/** One update of a CRDT, by its type. */
export type CrdtOp =
  /** Adds `add` (a positive safe integer). */
  | { readonly type: 'g-counter'; readonly add: number }
  /** Adds `add` (a non-zero safe integer; negative subtracts). */
  | { readonly type: 'pn-counter'; readonly add: number }
  /** Writes `value` stamped `timestamp` (the caller's clock: lww-register.ts). */
  | { readonly type: 'lww-register'; readonly timestamp: number; readonly value: Scalar }
  | { readonly type: 'mv-register'; readonly value: Scalar }
  | { readonly type: 'or-set'; readonly op: 'add' | 'remove'; readonly element: string }
  /** Removes every element this node sees now (adds it has not seen survive). */
  | { readonly type: 'or-set'; readonly op: 'clear' }
  | { readonly type: 'or-map'; readonly apply: OrMapOp };

/** The delta of `replica` applying `op` to `state` (a state of `op.type`), or why not. */
export function crdtDelta(state: unknown, replica: ReplicaId, op: CrdtOp): Result<unknown, CrdtRefusal> {
  const problem = opProblem(op);
  if (problem !== null) return err(argumentRefusal('CONFIG', 'shape', 'op', problem));
  switch (op.type) {
    case 'g-counter':
      return gCounterIncrement(state as GCounter, replica, op.add);
    case 'pn-counter':
      if (!Number.isSafeInteger(op.add) || op.add === 0) return err(argumentRefusal('CONFIG', 'integer', 'add', `${op.add} is not a non-zero integer`));
      return op.add > 0 ? pnCounterIncrement(state as PnCounter, replica, op.add) : pnCounterDecrement(state as PnCounter, replica, -op.add);
    case 'lww-register':
      return lwwWrite(state as LwwRegister, replica, op.timestamp, op.value);
    case 'mv-register':
      return mvWrite(state as MvRegister, replica, op.value);
    case 'or-set':
      if (op.op === 'add') return orSetAdd(state as OrSet, replica, op.element);
      return ok(op.op === 'remove' ? orSetRemove(state as OrSet, op.element) : orSetClear(state as OrSet));
    case 'or-map':
      return orMapApply(state as OrMap, replica, op.apply);
    default: {
      const never: never = op;
      return never;
    }
  }
}

/** The type an op updates, or null when it names none the registry knows. */
export function opType(op: unknown): CrdtTypeName | null {
  if (typeof op !== 'object' || op === null) return null;
  const type = (op as { type?: unknown }).type;
  return isCrdtTypeName(type) ? type : null;
}

/** Why `op` is not an op's shape, or null. Values are the mutators' to check. */
function opProblem(op: unknown): string | null {
  if (opType(op) === null) return `an op must be an object whose type is one of ${crdtTypeNames.join(', ')}`;
  const o = op as Record<string, unknown>;
  if (o['type'] === 'or-set' && !['add', 'remove', 'clear'].includes(o['op'] as string)) return "an or-set op is 'add', 'remove' or 'clear'";
  if (o['type'] === 'or-map') return mapOpProblem(o['apply'], 1);
  return null;
}

/** An OR-Map op's shape, nested maps included (at most `nestingDepthMax` deep). */
function mapOpProblem(apply: unknown, depth: number): string | null {
  if (depth > nestingDepthMax) return `maps nested deeper than ${nestingDepthMax}`;
  if (typeof apply !== 'object' || apply === null) return 'an or-map op must be an object';
  const a = apply as Record<string, unknown>;
  if (a['op'] === 'remove') return a['type'] === undefined || isCrdtTypeName(a['type']) ? null : 'an or-map remove names a CRDT type or none';
  if (a['op'] !== 'update') return "an or-map op is 'update' or 'remove'";
  const field = a['field'];
  const type = opType(field);
  if (type === null) return 'an or-map update needs a field op with a CRDT type';
  const f = field as Record<string, unknown>;
  if (type === 'or-set' && f['op'] !== 'add' && f['op'] !== 'remove') return "an or-set field op is 'add' or 'remove'";
  if (type === 'or-map') return mapOpProblem(f['apply'], depth + 1);
  return null;
}
