/**
 * Whether a tab may run its node under the id it ran before (src/client/node-id.ts), in Node:
 * the decision is a pure function of the tab's `durable` marker and what the node's storage
 * holds, and the rest are its inputs. It proves, by table, that only a node that HAD durable
 * state and now has none rejoins under a new id (an eviction), and that anything stored (a
 * term, a vote, a log, a snapshot) or not knowing lets it run; which driver events show that a
 * node has written durable state (when the marker is set); that the marker is kept per cluster
 * and id in sessionStorage; and that the look before start (`evictedAtStart`, through
 * fake-indexeddb as the global IndexedDB) asks only for an id from sessionStorage that has the
 * marker, with IndexedDB storage, and answers true for a database that is gone.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexedDbRaftStorage } from '../../src/io/storage/indexeddb-storage.ts';
import { emptyWrite } from '../../src/io/storage/storage.ts';
import {
  clearDurableMarker,
  decideIncarnation,
  durableMarkerKey,
  eventShowsDurableState,
  evictedAtBoot,
  evictedAtStart,
  hasDurableMarker,
  markDurable,
  type ClaimedId,
} from '../../src/client/node-id.ts';
import type { BootSummary, NodeEvent } from '../../src/runtime/worker-protocol.ts';

const nothing: BootSummary = { term: 0, vote: null, commit: 0, lastIndex: 0, snapshotIndex: 0 };

describe('decideIncarnation(marker, what storage holds)', () => {
  it.each([
    ['no marker, nothing stored (a first run)', false, nothing, 'run'],
    ['no marker, state stored', false, { ...nothing, term: 2, vote: 'a', lastIndex: 4, commit: 3 }, 'run'],
    ['no marker, cannot tell', false, null, 'run'],
    ['marker, nothing stored (evicted)', true, nothing, 'rejoin'],
    ['marker, state stored', true, { term: 5, vote: 'b', commit: 9, lastIndex: 12, snapshotIndex: 0 }, 'run'],
    ['marker, only a term', true, { ...nothing, term: 1 }, 'run'],
    ['marker, only a vote', true, { ...nothing, vote: 'a' }, 'run'],
    ['marker, only a snapshot', true, { ...nothing, lastIndex: 7, snapshotIndex: 7 }, 'run'],
    ['marker, cannot tell', true, null, 'run'],
  ] as const)('%s: %s', (_, marker, found, expected) => {
    expect(decideIncarnation(marker, found)).toBe(expected);
  });
});

describe('eventShowsDurableState', () => {
  it.each([
    [{ type: 'role', role: 'follower', term: 0 }, false],
    [{ type: 'role', role: 'follower', term: 1 }, true],
    [{ type: 'leader', leader: null, term: 0 }, false],
    [{ type: 'leader', leader: 'a', term: 3 }, true],
    [{ type: 'commit', index: 0 }, false],
    [{ type: 'commit', index: 1 }, true],
    [{ type: 'link', peer: 'b', state: 'open' }, false],
    [{ type: 'error', error: { code: 'STORAGE', message: 'x' } }, false],
  ] as const)('%o: %s', (event, expected) => {
    expect(eventShowsDurableState(event as NodeEvent)).toBe(expected);
  });
});

/** A sessionStorage for Node, on globalThis for the duration of a test. */
class MapStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

describe('the durable marker and the look before start', () => {
  const g = globalThis as { sessionStorage?: unknown; indexedDB?: unknown };
  let session: MapStorage;
  beforeEach(() => {
    session = new MapStorage();
    g.sessionStorage = session;
    g.indexedDB = new IDBFactory();
  });
  afterEach(() => {
    delete g.sessionStorage;
    delete g.indexedDB;
  });

  const fromSession = (id: string): ClaimedId => ({ id, hold: null, source: 'session' });

  it('keeps the marker per cluster and id', () => {
    expect(hasDurableMarker('c1', 'n0')).toBe(false);
    markDurable('c1', 'n0');
    expect(session.items.get(durableMarkerKey('c1', 'n0'))).toBe('durable');
    expect(hasDurableMarker('c1', 'n0')).toBe(true);
    expect(hasDurableMarker('c1', 'n1')).toBe(false);
    expect(hasDurableMarker('c2', 'n0')).toBe(false);
    clearDurableMarker('c1', 'n0');
    expect(hasDurableMarker('c1', 'n0')).toBe(false);
  });

  it('says evicted for an id from sessionStorage with the marker whose database is gone, and only then', async () => {
    const storage = new IndexedDbRaftStorage({ cluster: 'c1', node: 'n0', indexedDB: g.indexedDB as IDBFactory, IDBKeyRange });
    await storage.write({ ...emptyWrite, hardState: { term: 2, vote: 'n0', commit: 0 } });
    await storage.close();
    // No marker: a first run (or one that never wrote), nothing to compare with.
    expect(await evictedAtStart('c1', fromSession('n0'), 'indexeddb')).toBe(false);
    markDurable('c1', 'n0');
    expect(await evictedAtStart('c1', fromSession('n0'), 'indexeddb')).toBe(false);
    // The browser evicts the database.
    await new Promise<void>((resolve) => {
      (g.indexedDB as IDBFactory).deleteDatabase('peerquorum/c1/n0').onsuccess = () => resolve();
    });
    expect(await evictedAtStart('c1', fromSession('n0'), 'indexeddb')).toBe(true);
    // Not for an id the page passed, one taken from peers, or memory storage.
    expect(await evictedAtStart('c1', { ...fromSession('n0'), source: 'page' }, 'indexeddb')).toBe(false);
    expect(await evictedAtStart('c1', { ...fromSession('n0'), source: 'peers' }, 'indexeddb')).toBe(false);
    expect(await evictedAtStart('c1', fromSession('n0'), 'memory')).toBe(false);
    // The worker's boot summary, the backstop, answers alike.
    expect(evictedAtBoot('c1', fromSession('n0'), 'indexeddb', nothing)).toBe(true);
    expect(evictedAtBoot('c1', fromSession('n0'), 'indexeddb', { ...nothing, term: 2, vote: 'n0' })).toBe(false);
  });
});
