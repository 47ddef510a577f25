/**
 * Anti-entropy cost (issue 12: "bytes sent to repair a difference of k keys grow with k, not with
 * the data set"; DeCandia et al. 2007 §4.7 use Merkle trees for exactly this). Two simulated
 * nodes, push off (`deltaFanout` 0: only anti-entropy moves data), hold the same N CRDTs; then
 * one of them updates k of them, and every byte of the data plane's messages (`crdt-merkle`,
 * `crdt-states`, encoded by the real codec) is counted until both stores are equal again.
 *
 * `checkAntiEntropyCost` measures k = 1, 10, 100 on N = 100 and N = 1,000 and reports a
 * violation when ten times the data set costs more than twice as much to repair the same k
 * (plus a small constant for the tree's upper levels), or when repairing 100 keys does not cost
 * more than repairing 1.
 */
import { encodeGossipBody } from '../../io/codec-gossip.ts';
import type { GossipSimNode, GossipTimings } from './gossip-sim-node.ts';
import { GossipSwarm, gossipTickUs } from './gossip-swarm.ts';
import { Violations } from './checkers/violations.ts';

export interface AntiEntropyCostPoint {
  readonly keys: number;
  readonly differing: number;
  readonly bytes: number;
  readonly messages: number;
}

const ms = 1000;

/** The bytes and messages anti-entropy spends to repair `differing` of `keys` CRDTs between two nodes. */
export function measureAntiEntropyCost(seed: number, keys: number, differing: number, config: GossipTimings = {}): AntiEntropyCostPoint {
  let counting = false;
  let bytes = 0;
  let messages = 0;
  const swarm = new GossipSwarm({
    seed,
    config: { ...config, deltaFanout: 0 },
    delay: { kind: 'uniform', minUs: 1 * ms, maxUs: 5 * ms },
    storageLatency: { kind: 'constant', us: 500 },
    clockDriftMax: 0,
    catchUpTicksMax: 100,
    observer: {
      onStart: () => {},
      onEvents: () => {},
      onSend: (_node, m) => {
        if (!counting || (m.type !== 'crdt-merkle' && m.type !== 'crdt-states')) return;
        messages++;
        bytes += encodeGossipBody(m).byteLength;
      },
      onFail: (node, error) => {
        throw new Error(`${node.id} failed: ${String(error)}`);
      },
    },
  });
  const a = swarm.createNode();
  const b = swarm.createNode();
  a.start([]);
  b.start([a.id]);
  const step = gossipTickUs;
  const limitUs = (): number => swarm.nowUs + 600_000 * ms;
  if (swarm.runUntil(() => a.member && b.member, limitUs(), step) === null) throw new Error('the two nodes did not join');
  for (let i = 0; i < keys; i++) update(a, `k${i}`);
  const equal = (): boolean => a.engine?.crdtRootHash() === b.engine?.crdtRootHash();
  if (swarm.runUntil(equal, limitUs(), step) === null) throw new Error(`${keys} CRDTs never reached the second node`);
  counting = true;
  for (let i = 0; i < differing; i++) update(a, `k${(i * 7919) % keys}`);
  if (swarm.runUntil(() => !equal(), swarm.nowUs + step, step) === null && equal()) throw new Error('the updates changed nothing');
  if (swarm.runUntil(equal, limitUs(), step) === null) throw new Error(`a difference of ${differing} CRDTs was never repaired`);
  return { keys, differing, bytes, messages };
}

function update(node: GossipSimNode, name: string): void {
  const r = node.stepLocal({ local: 'crdt-update', name, op: { type: 'g-counter', add: 1 } });
  if (!r.ok) throw r.error;
}

export interface AntiEntropyCostReport {
  readonly points: readonly AntiEntropyCostPoint[];
  readonly violations: Violations;
}

export const antiEntropyKeySizes = [100, 1000] as const;
export const antiEntropyDifferences = [1, 10, 100] as const;
/** Bytes allowed on top of twice the small data set's cost (one more tree level's hashes). */
const slackBytes = 2048;

/** `config`: engine settings to measure under (a test plants a one-level tree, whose leaves list every key, to see this bite). */
export function checkAntiEntropyCost(seed: number, config: GossipTimings = {}): AntiEntropyCostReport {
  const violations = new Violations();
  const points: AntiEntropyCostPoint[] = [];
  for (const keys of antiEntropyKeySizes) for (const k of antiEntropyDifferences) points.push(measureAntiEntropyCost(seed, keys, k, config));
  const at = (keys: number, k: number): AntiEntropyCostPoint => points.find((p) => p.keys === keys && p.differing === k) as AntiEntropyCostPoint;
  const [small, large] = antiEntropyKeySizes;
  for (const k of antiEntropyDifferences) {
    const s = at(small, k);
    const l = at(large, k);
    if (l.bytes > 2 * s.bytes + slackBytes) violations.add(`repairing ${k} keys cost ${l.bytes} bytes among ${large} and ${s.bytes} among ${small}: it grows with the data set`);
  }
  for (const keys of antiEntropyKeySizes) {
    if (at(keys, 100).bytes <= at(keys, 1).bytes) violations.add(`among ${keys} keys, repairing 100 cost ${at(keys, 100).bytes} bytes, no more than repairing 1 (${at(keys, 1).bytes})`);
  }
  return { points, violations };
}
