/**
 * What changed in a CRDT, as the `crdt-changed` event carries it: in proportion to the change,
 * not to the CRDT. A page that holds the value (from opening the CRDT) keeps it current by
 * applying each change; a 1,000-key map updated one key at a time costs one field per event, not
 * 1,000 (before, every event carried the whole value, built, cloned to the page and walked
 * there, for every update on every node).
 *
 * Each change is an assignment, not an increment: it says what the touched parts hold NOW. So a
 * page may apply a change twice, or one already reflected in the value it opened with, and hold
 * the same value (the value a page opens with and the events after it may overlap).
 *   - counters and registers (small): the whole new value;
 *   - OR-Set: the touched elements present now (`added`) and absent now (`removed`);
 *   - OR-Map: the touched fields present now with their values (`updated`, by key then type),
 *     and the fields gone (`removed`): the keys changed, as a Yjs map observer sees them.
 */
import type { CrdtTypeName, CrdtValues } from '../crdt/crdt-types.ts';
import { crdtType } from '../crdt/crdt-types.ts';
import { embeddedValue, type OrMapEntry, type OrMapField } from '../crdt/or-map-store.ts';
import type { OrMap } from '../crdt/or-map.ts';
import type { OrSet } from '../crdt/or-set.ts';
import { compareText } from '../crdt/text.ts';

/** A counter's or register's new value. */
export interface ValueChange<N extends CrdtTypeName = CrdtTypeName> {
  readonly kind: 'value';
  readonly value: CrdtValues[N];
}

/** An OR-Set's touched elements: present now, and absent now; each sorted. */
export interface ElementsChange {
  readonly kind: 'elements';
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** An OR-Map's touched fields: present now with their values, and gone; each by key then type. */
export interface FieldsChange {
  readonly kind: 'fields';
  readonly updated: readonly OrMapEntry[];
  readonly removed: readonly { readonly key: string; readonly type: CrdtTypeName }[];
}

export type CrdtChangeOf<N extends CrdtTypeName> = N extends 'or-map' ? FieldsChange : N extends 'or-set' ? ElementsChange : ValueChange<N>;

export type CrdtChange = ValueChange | ElementsChange | FieldsChange;

/**
 * The change of a CRDT of type `crdt` now holding `state`, given the keys touched since the last
 * event (OR-Set elements, OR-Map field ids; null for the other types, or when not known, which
 * for a keyed type reports every key it holds).
 */
export function crdtChange(crdt: CrdtTypeName, state: unknown, touched: ReadonlySet<string> | null): CrdtChange {
  switch (crdt) {
    case 'or-set':
      return elementsChange(state as OrSet, touched);
    case 'or-map':
      return fieldsChange(state as OrMap, touched);
    default:
      return { kind: 'value', value: crdtType(crdt).value(state) as CrdtValues[CrdtTypeName] };
  }
}

function elementsChange(state: OrSet, touched: ReadonlySet<string> | null): ElementsChange {
  const added: string[] = [];
  const removed: string[] = [];
  for (const element of touched ?? state.store.keys()) (state.store.has(element) ? added : removed).push(element);
  return { kind: 'elements', added: added.sort(compareText), removed: removed.sort(compareText) };
}

function fieldsChange(state: OrMap, touched: ReadonlySet<string> | null): FieldsChange {
  const present: OrMapField[] = [];
  const removed: { key: string; type: CrdtTypeName }[] = [];
  for (const id of touched ?? state.store.keys()) {
    const field = state.store.get(id);
    if (field !== undefined) present.push(field);
    else removed.push(fieldOfId(id));
  }
  const byKeyThenType = (a: { key: string; type: string }, b: { key: string; type: string }): number => compareText(a.key, b.key) || compareText(a.type, b.type);
  present.sort(byKeyThenType);
  return { kind: 'fields', updated: present.map((f) => ({ key: f.key, ...embeddedValue(f) })), removed: removed.sort(byKeyThenType) };
}

/** The (key, type) of a field id (`fieldId`: the type, a colon, the key; a type name holds no colon). */
function fieldOfId(id: string): { key: string; type: CrdtTypeName } {
  const colon = id.indexOf(':');
  return { key: id.slice(colon + 1), type: id.slice(0, colon) as CrdtTypeName };
}
