/**
 * The CRDT update microbenchmark (`npm run bench -- crdt-update`): the CPU cost of ONE update to
 * a large OR-Map, on the node that makes it and on a node that receives its delta, in one Node
 * process with no I/O. It is the per-update work the crdt-browser benchmark pays on every node
 * for every update (replication.ts): merging the delta, deciding whether it was news, the
 * change event, persisting, digests.
 *
 * Two gossip engines (src/core/gossip) join over an in-process loop that hands each Ready's
 * messages to their receivers, until each is in the other's mesh. Then `--keys` keys are set in
 * the map `bench` (untimed), and `--updates` more updates are timed, each a last-writer-wins
 * field of a key among the `--keys`: on the sender, `step(crdt-update)` + its Ready; on the
 * receiver, `step(crdt-push)` of the sender's delta + its Ready. Every `--updates-per-tick`
 * updates both engines tick, and the Readies a tick brings (coalesced writes) are timed with
 * the update that came before (as in the browser: 10 ms ticks, an update every 5 ms).
 *
 * Prints one JSON line: {"bench":"crdt-update","keys":..,"senderUsP50":..,"senderUsMean":..,
 * "receiverUsP50":..,"receiverUsMean":..}. Options: --keys N (1000), --updates N (2000),
 * --updates-per-tick N (2), --warmup N (200). Timings, not assertions.
 */
import { performance } from 'node:perf_hooks';
import { createPrng } from '../src/core/prng.ts';
import { GossipNode } from '../src/core/gossip/gossip-node.ts';
import type { GossipMessage } from '../src/core/gossip/messages.ts';
import type { BenchSamples } from './bench-samples.ts';

interface Options {
  keys: number;
  updates: number;
  updatesPerTick: number;
  warmup: number;
}

function parseOptions(args: readonly string[]): Options {
  const o: Options = { keys: 1000, updates: 2000, updatesPerTick: 2, warmup: 200 };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    const value = Number(args[i + 1]);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer`);
    if (flag === '--keys') o.keys = value;
    else if (flag === '--updates') o.updates = value;
    else if (flag === '--updates-per-tick') o.updatesPerTick = value;
    else if (flag === '--warmup') o.warmup = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

/** Takes every Ready of `node` as a host would (the writes need no time here); answers the messages. */
function drain(node: GossipNode): GossipMessage[] {
  const out: GossipMessage[] = [];
  while (node.hasReady()) {
    out.push(...node.ready().messages);
    node.advance();
  }
  return out;
}

/** Ticks both engines, delivering every message at once, until each holds the other in its mesh. */
function connect(a: GossipNode, b: GossipNode): void {
  const nodes = new Map([
    [a.id, a],
    [b.id, b],
  ]);
  b.step({ local: 'join', seeds: [a.id] });
  a.step({ local: 'join', seeds: [] });
  for (let tick = 0; tick < 5000; tick++) {
    let messages = [...drain(a), ...drain(b)];
    while (messages.length > 0) {
      for (const m of messages) nodes.get(m.to)?.step(m);
      messages = [...drain(a), ...drain(b)];
    }
    if (a.mesh().includes(b.id) && b.mesh().includes(a.id)) return;
    a.tick();
    b.tick();
  }
  throw new Error('the two engines never meshed');
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function runCrdtUpdateBench(args: readonly string[]): BenchSamples {
  const o = parseOptions(args);
  const timings = { probeIntervalTicks: 100, meshHeartbeatTicks: 10 };
  const sender = new GossipNode({ ...timings, id: 'sender', prng: createPrng(1) });
  const receiver = new GossipNode({ ...timings, id: 'receiver', prng: createPrng(2) });
  connect(sender, receiver);
  const senderUs: number[] = [];
  const receiverUs: number[] = [];
  let stamp = 1;
  const update = (key: string): void => {
    sender.step({ local: 'crdt-update', name: 'bench', op: { type: 'or-map', apply: { op: 'update', key, field: { type: 'lww-register', timestamp: stamp++, value: stamp } } } });
  };
  /** Hands `messages` to `to` (every kind: probes and acks keep each alive in the other's view). */
  const deliver = (messages: readonly GossipMessage[], to: GossipNode): void => {
    for (const m of messages) if (m.to === to.id) to.step(m);
  };
  let toSender: GossipMessage[] = [];
  for (let i = 0; i < o.keys; i++) {
    update(`k${i}`);
    deliver(drain(sender), receiver);
    deliver(drain(receiver), sender);
  }
  for (let i = 0; i < o.warmup + o.updates; i++) {
    const tickNow = (i + 1) % o.updatesPerTick === 0;
    const t0 = performance.now();
    deliver(toSender, sender);
    update(`k${(i * 7919) % o.keys}`);
    const sent = drain(sender);
    if (tickNow) {
      sender.tick();
      sent.push(...drain(sender));
    }
    const t1 = performance.now();
    deliver(sent, receiver);
    toSender = drain(receiver);
    if (tickNow) {
      receiver.tick();
      toSender.push(...drain(receiver));
    }
    const t2 = performance.now();
    if (i < o.warmup) continue;
    senderUs.push((t1 - t0) * 1000);
    receiverUs.push((t2 - t1) * 1000);
  }
  deliver(toSender, sender);
  for (let t = 0; t < 20; t++) {
    sender.tick();
    deliver(drain(sender), receiver);
    receiver.tick();
    deliver(drain(receiver), sender);
  }
  if (!sender.mesh().includes(receiver.id)) throw new Error('the receiver left the sender mesh: its pushes were not measured');
  if (sender.crdtRootHash() !== receiver.crdtRootHash()) throw new Error('the receiver does not hold what the sender holds');
  const keysHeld = receiver.crdtValue('bench', 'or-map').length;
  if (keysHeld !== o.keys) throw new Error(`the receiver holds ${keysHeld} keys, not ${o.keys}`);
  const summary = (us: number[]): { p50: number; mean: number } => {
    const sorted = [...us].sort((x, y) => x - y);
    return { p50: Math.round(percentile(sorted, 50)), mean: Math.round(us.reduce((s, x) => s + x, 0) / us.length) };
  };
  const s = summary(senderUs);
  const r = summary(receiverUs);
  console.log(`one update of a ${o.keys}-key OR-Map (${o.updates} timed): sender p50 ${s.p50} µs mean ${s.mean} µs; receiver p50 ${r.p50} µs mean ${r.mean} µs`);
  console.log(JSON.stringify({ bench: 'crdt-update', keys: o.keys, senderUsP50: s.p50, senderUsMean: s.mean, receiverUsP50: r.p50, receiverUsMean: r.mean }));
  return {
    title: `crdt-update: the CPU cost of one update to a ${o.keys}-key OR-Map, ${o.updates} timed`,
    latency: [...senderUs.map((us) => ({ series: 'sender: step(crdt-update) + its Ready', ms: us / 1000 })), ...receiverUs.map((us) => ({ series: 'receiver: step(crdt-push) + its Ready', ms: us / 1000 }))],
    latencyLabel: 'CPU time of one update, per node (ms)',
  };
}
