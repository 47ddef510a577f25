/**
 * How the data plane cuts what it has to send into messages within the bounds: at most
 * `dataItemsPerMessageMax` items, `dataValuesPerMessageMax` values of state (the codec's count
 * of a frame, limits.ts) and the node's `dataMessageBytesMax` estimated bytes. An item larger
 * than the byte bound alone still goes, alone (a state is bounded by `crdtStateBytesMax`, at most
 * 1 MiB, so it fits a frame); an item past the values bound never goes (`fits` says so first).
 */
import { msgpackBytes } from '../crdt/merkle-cost.ts';
import { utf8Bytes } from '../crdt/text.ts';
import type { WireValue } from '../crdt/wire-reader.ts';
import { dataItemsPerMessageMax, dataValuesPerMessageMax } from './limits.ts';

/** What packing needs to know of an item. */
export interface Measured {
  readonly bytes: number;
  readonly values: number;
}

/**
 * An upper bound of an item's bytes in a message: its state's msgpack, its name, and the map of
 * four short keys with the type name and TTL (under 48 bytes).
 */
export function itemBytes(name: string, state: WireValue): number {
  return msgpackBytes(state) + utf8Bytes(name) + 48;
}

/** Whether an item of `values` values can travel at all (alone in a message). */
export function fits(values: number): boolean {
  return values <= dataValuesPerMessageMax;
}

/** `items` cut into groups, in order, each within the bounds (a lone oversize item makes its own group). */
export function pack<T extends Measured>(items: readonly T[], bytesMax: number): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  let values = 0;
  for (const item of items) {
    const full = group.length >= dataItemsPerMessageMax || bytes + item.bytes > bytesMax || values + item.values > dataValuesPerMessageMax;
    if (full && group.length > 0) {
      groups.push(group);
      group = [];
      bytes = 0;
      values = 0;
    }
    group.push(item);
    bytes += item.bytes;
    values += item.values;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
