/**
 * The gossip benchmark (issue 12 item 7): a simulated swarm of 25 nodes (src/sim/gossip/: the
 * production gossip host on virtual time) over 100 ms links (one way, ±5 ms), no loss, one tick
 * = 10 ms as the runtime ticks, the engine's default configuration. Measured, in virtual time:
 *
 * - DISSEMINATION of updates: CRDT updates (an element added to one of 32 OR-Sets) issued at
 *   `--rate` per second from random members for `--ops` updates; each is visible at a node when
 *   that node's `crdt-changed` event shows it. `disseminationP50Ms` / `disseminationMaxMs`: from
 *   the update to the LAST node seeing it, over the updates. `msgsPerOp`: every gossip message
 *   sent by any node (membership and data) from the first update until the last is everywhere,
 *   divided by the updates (Maelstrom's msgs-per-op). Goals: at most 20, p50 <= 300 ms, max <= 600 ms.
 *   Measured twice, on two swarms of the same seed: with the defaults (every link free to carry
 *   a push at every tick: the latency a browser app wants), and BATCHED, with each link carrying
 *   one push per `--batch-ticks` ticks (10, i.e. 100 ms; `batched*` keys): the messages a busy
 *   swarm wants. Neither meets all three goals; the closing note of issue 12 says why.
 * - Membership dissemination (printed, not in the JSON): a member leaves gracefully; the time
 *   until every other member holds it left, and the messages sent meanwhile.
 * - DETECTION: a member crashes; `detectionP50Ms` is the median time until every live member has
 *   declared it dead (or forgotten it), over `--crashes` trials.
 * - FALSE SUSPICIONS: suspicion episodes of live members nobody cut off or paused
 *   (src/sim/gossip/checkers/accuracy.ts), per hour of the swarm, over the whole run plus
 *   `--quiet-minutes` of quiet.
 *
 * Options: --config JSON (engine settings over the defaults), --seed N, --nodes N, --ops N (1000), --rate N (100 per second), --batch-ticks N (10), --crashes N (10),
 * --leaves N (10), --quiet-minutes N (5). The JSON line is last.
 */
import { resolveGossipConfig } from '../src/core/gossip/config.ts';
import type { GossipEvent } from '../src/core/gossip/events.ts';
import { createPrng } from '../src/core/prng.ts';
import { AccuracyChecker } from '../src/sim/gossip/checkers/accuracy.ts';
import type { SwarmView } from '../src/sim/gossip/checkers/swarm-view.ts';
import type { GossipSimNode, GossipTimings } from '../src/sim/gossip/gossip-sim-node.ts';
import { GossipSwarm, gossipTickUs } from '../src/sim/gossip/gossip-swarm.ts';
import { quantile } from '../src/sim/gossip/gossip-sweep.ts';
import { Impairments } from '../src/sim/gossip/impairments.ts';
import type { BenchSamples } from './bench-samples.ts';

interface GossipBenchOptions {
  /** Engine settings over the defaults (`--config '{"deltaFanout":6}'`), to try changes. */
  config: GossipTimings;
  seed: number;
  nodes: number;
  ops: number;
  rate: number;
  crashes: number;
  leaves: number;
  quietMinutes: number;
  batchTicks: number;
}

function parseOptions(args: readonly string[]): GossipBenchOptions {
  const o: GossipBenchOptions = { config: {}, seed: 1, nodes: 25, ops: 1000, rate: 100, crashes: 10, leaves: 10, quietMinutes: 5, batchTicks: 10 };
  const flags: Record<string, keyof GossipBenchOptions> = {
    '--seed': 'seed',
    '--nodes': 'nodes',
    '--ops': 'ops',
    '--rate': 'rate',
    '--crashes': 'crashes',
    '--leaves': 'leaves',
    '--quiet-minutes': 'quietMinutes',
    '--batch-ticks': 'batchTicks',
  };
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--config') {
      o.config = JSON.parse(args[i + 1] ?? '{}') as GossipTimings;
      continue;
    }
    const key = flags[args[i] ?? ''];
    const value = Number(args[i + 1]);
    if (key === undefined) throw new Error(`unknown option ${args[i]}; options: ${Object.keys(flags).join(' ')}`);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${args[i]} needs a non-negative integer`);
    o[key] = value;
  }
  if (o.nodes < 3) throw new Error('--nodes must be at least 3');
  if (o.rate < 1) throw new Error('--rate must be at least 1');
  return o;
}

const ms = 1000;
const s = 1_000_000;
const setsCount = 32;
const stepUs = gossipTickUs;

class GossipBench {
  readonly swarm: GossipSwarm;
  readonly impairments: Impairments;
  readonly accuracy: AccuracyChecker;
  messagesSent = 0;
  /** Messages sent, by type (membership and data), over the whole run. */
  readonly sentByType = new Map<string, number>();
  /** Per node: elements seen, and when each update (by number) was first seen by the node. */
  private readonly seen = new Map<string, Set<string>>();
  /** Per update number: how many nodes have seen it, and when the last did. */
  private readonly reach = new Map<number, { nodes: number; lastUs: number }>();

  constructor(private readonly o: GossipBenchOptions) {
    const config = resolveGossipConfig({ ...o.config, id: 'config', prng: createPrng(1) });
    this.swarm = new GossipSwarm({
      seed: o.seed,
      config: o.config,
      delay: { kind: 'uniform', minUs: 95 * ms, maxUs: 105 * ms },
      storageLatency: { kind: 'exponential', minUs: 300, meanUs: 800, maxUs: 20 * ms },
      clockDriftMax: 0.005,
      catchUpTicksMax: config.probeIntervalTicks,
      observer: {
        onStart: () => {},
        onSend: (_node, m) => {
          this.messagesSent++;
          this.sentByType.set(m.type, (this.sentByType.get(m.type) ?? 0) + 1);
        },
        onEvents: (node, events) => this.onEvents(node, events),
        onFail: (node, error) => {
          throw new Error(`${node.id} failed: ${String(error)}`);
        },
      },
    });
    this.impairments = new Impairments(() => this.swarm.nowUs);
    const view: SwarmView = {
      nowUs: () => this.swarm.nowUs,
      nodes: () => this.swarm.nodes,
      node: (id) => this.swarm.node(id),
      impairments: this.impairments,
      config,
      tickUs: gossipTickUs,
    };
    this.accuracy = new AccuracyChecker(view);
  }

  private onEvents(node: GossipSimNode, events: readonly GossipEvent[]): void {
    this.accuracy.observe(node, events);
    for (const e of events) {
      if (e.kind !== 'crdt-changed' || e.crdt !== 'or-set') continue;
      let seen = this.seen.get(node.id);
      if (seen === undefined) {
        seen = new Set();
        this.seen.set(node.id, seen);
      }
      if (e.change.kind !== 'elements') continue;
      for (const element of e.change.added) {
        if (seen.has(element)) continue;
        seen.add(element);
        const r = this.reach.get(Number(element.slice(1)));
        if (r !== undefined) {
          r.nodes++;
          r.lastUs = this.swarm.nowUs;
        }
      }
    }
  }

  /** Every member holds every other member alive. */
  agree(): boolean {
    const members = this.swarm.nodes.filter((n) => n.up);
    return members.every((v) => v.member && members.every((m) => m === v || v.engine?.member(m.id)?.state === 'alive'));
  }

  settle(extraUs: number): void {
    const sw = this.swarm;
    if (sw.runUntil(() => this.agree(), sw.nowUs + 120 * s, stepUs) === null) throw new Error('the swarm did not converge');
    sw.runUntil(() => false, sw.nowUs + extraUs, stepUs);
  }

  bootstrap(): void {
    const sw = this.swarm;
    for (let i = 0; i < this.o.nodes; i++) sw.createNode();
    (sw.nodes[0] as GossipSimNode).start([]);
    for (const node of sw.nodes.slice(1)) sw.scheduler.at(1 + sw.prng.nextInt(2 * s), () => node.start(sw.seedsFor(node)));
    sw.runUntil(() => false, 2 * s + 1, stepUs);
    this.settle(10 * s);
  }

  /** Updates at `rate` per second; returns per-update last-reach delays (us) and messages per update. */
  updates(): { delaysUs: number[]; msgsPerOp: number; unreached: number; byType: Record<string, number>; meshDegreeMean: number } {
    const sw = this.swarm;
    const o = this.o;
    const gapUs = Math.round(s / o.rate);
    const startUs = sw.nowUs;
    const messagesBefore = this.messagesSent;
    const byTypeBefore = new Map(this.sentByType);
    const issuedUs: number[] = [];
    for (let k = 0; k < o.ops; k++) {
      sw.scheduler.at(startUs + k * gapUs + 1, () => {
        const members = sw.members();
        const origin = members[sw.prng.nextInt(members.length)] as GossipSimNode;
        issuedUs[k] = sw.nowUs;
        this.reach.set(k, { nodes: 0, lastUs: sw.nowUs });
        const r = origin.stepLocal({ local: 'crdt-update', name: `s${k % setsCount}`, op: { type: 'or-set', op: 'add', element: `e${k}` } });
        if (!r.ok) throw r.error;
      });
    }
    const everywhere = (): boolean => issuedUs.length === o.ops && [...this.reach.values()].every((r) => r.nodes >= o.nodes);
    sw.runUntil(everywhere, startUs + o.ops * gapUs + 60 * s, stepUs);
    const messages = this.messagesSent - messagesBefore;
    const byType: Record<string, number> = {};
    for (const [type, n] of this.sentByType) {
      const d = n - (byTypeBefore.get(type) ?? 0);
      if (d > 0) byType[type] = Math.round((d / o.ops) * 10) / 10;
    }
    const degrees = sw.members().map((n) => n.engine?.mesh().length ?? 0);
    const delaysUs: number[] = [];
    let unreached = 0;
    for (let k = 0; k < o.ops; k++) {
      const r = this.reach.get(k);
      if (r === undefined || r.nodes < o.nodes) unreached++;
      else delaysUs.push(r.lastUs - (issuedUs[k] as number));
    }
    return { delaysUs, msgsPerOp: messages / o.ops, unreached, byType, meshDegreeMean: degrees.reduce((a, b) => a + b, 0) / Math.max(1, degrees.length) };
  }

  /** A member leaves; until every other member holds it left. Then it joins again. */
  leaves(): { delaysUs: number[]; messages: number[] } {
    const sw = this.swarm;
    const delaysUs: number[] = [];
    const messages: number[] = [];
    for (let i = 0; i < this.o.leaves; i++) {
      const members = sw.members();
      const node = members[1 + sw.prng.nextInt(members.length - 1)] as GossipSimNode;
      const others = members.filter((m) => m !== node);
      const before = this.messagesSent;
      const startUs = sw.nowUs;
      this.impairments.begin(node.id, 'away');
      node.leave();
      const at = sw.runUntil(() => others.every((m) => m.engine?.member(node.id)?.state === 'left'), startUs + 60 * s, ms);
      if (at !== null) {
        delaysUs.push(at - startUs);
        messages.push(this.messagesSent - before);
      }
      node.rejoin(sw.seedsFor(node));
      this.impairments.end(node.id, 'away');
      this.settle(5 * s);
    }
    return { delaysUs, messages };
  }

  /** A member crashes; until every live member has declared it dead (or forgotten it). Then it restarts. */
  crashes(): number[] {
    const sw = this.swarm;
    const out: number[] = [];
    for (let i = 0; i < this.o.crashes; i++) {
      const members = sw.members();
      const node = members[1 + sw.prng.nextInt(members.length - 1)] as GossipSimNode;
      const others = members.filter((m) => m !== node);
      const cleared = new Set<string>();
      const startUs = sw.nowUs;
      node.crash();
      this.impairments.begin(node.id, 'down');
      const done = (): boolean => {
        for (const m of others) {
          const state = m.engine?.member(node.id)?.state;
          if (state !== 'alive' && state !== 'suspect') cleared.add(m.id);
        }
        return cleared.size === others.length;
      };
      const at = sw.runUntil(done, startUs + 120 * s, 10 * ms);
      if (at !== null) out.push(at - startUs);
      node.start(sw.seedsFor(node));
      this.impairments.end(node.id, 'down');
      this.settle(5 * s);
    }
    return out;
  }

  quiet(): void {
    const sw = this.swarm;
    sw.runUntil(() => false, sw.nowUs + this.o.quietMinutes * 60 * s, 100 * ms);
  }
}

const fmt = (us: number): number => Math.round(us / 100) / 10;

export function runGossipBench(args: readonly string[]): BenchSamples {
  const o = parseOptions(args);
  const startedMs = performance.now();
  const bench = new GossipBench(o);
  bench.bootstrap();
  const updates = bench.updates();
  const batchedBench = new GossipBench({ ...o, config: { ...o.config, deltaFlushTicks: o.batchTicks } });
  batchedBench.bootstrap();
  const batched = batchedBench.updates();
  const leaves = bench.leaves();
  const detections = bench.crashes();
  bench.quiet();
  const hours = bench.swarm.nowUs / 3.6e9;
  const falseSuspicionsPerHour = bench.accuracy.falseSuspicionsUnimpaired / hours;
  const seconds = (performance.now() - startedMs) / 1000;
  console.log(
    `gossip: ${o.nodes} nodes, 100 ms links, ${o.ops} CRDT updates at ${o.rate}/s: p50 ${fmt(quantile(updates.delaysUs, 0.5))} ms, p99 ${fmt(quantile(updates.delaysUs, 0.99))} ms, ` +
      `max ${fmt(quantile(updates.delaysUs, 1))} ms until every node saw it; ${updates.msgsPerOp.toFixed(1)} messages per update (all gossip traffic); ${updates.unreached} never reached everyone`,
  );
  console.log(`gossip: messages per update by type ${JSON.stringify(updates.byType)}; mean mesh degree ${updates.meshDegreeMean.toFixed(1)}`);
  console.log(
    `gossip: batched (a push per link per ${o.batchTicks} ticks): p50 ${fmt(quantile(batched.delaysUs, 0.5))} ms, max ${fmt(quantile(batched.delaysUs, 1))} ms, ` +
      `${batched.msgsPerOp.toFixed(1)} messages per update ${JSON.stringify(batched.byType)}; ${batched.unreached} never reached everyone`,
  );
  console.log(
    `gossip: ${leaves.delaysUs.length}/${o.leaves} leaves seen by all: p50 ${fmt(quantile(leaves.delaysUs, 0.5))} ms, max ${fmt(quantile(leaves.delaysUs, 1))} ms, ` +
      `${quantile(leaves.messages, 0.5)} messages meanwhile (p50)`,
  );
  console.log(`gossip: ${detections.length}/${o.crashes} crashes declared dead by all: p50 ${fmt(quantile(detections, 0.5))} ms, max ${fmt(quantile(detections, 1))} ms`);
  console.log(
    `gossip: ${bench.accuracy.falseSuspicionsUnimpaired} false suspicions of unimpaired members (${bench.accuracy.falseSuspicions} of live members in all) ` +
      `over ${(hours * 60).toFixed(1)} virtual minutes; ${bench.messagesSent} messages; ${seconds.toFixed(1)} s to run`,
  );
  console.log(
    JSON.stringify({
      bench: 'gossip',
      ...(Object.keys(o.config).length > 0 ? { config: o.config } : {}),
      nodes: o.nodes,
      linkMs: 100,
      opsPerSec: o.rate,
      msgsPerOp: Math.round(updates.msgsPerOp * 10) / 10,
      disseminationP50Ms: fmt(quantile(updates.delaysUs, 0.5)),
      disseminationMaxMs: fmt(quantile(updates.delaysUs, 1)),
      batchedFlushTicks: o.batchTicks,
      batchedMsgsPerOp: Math.round(batched.msgsPerOp * 10) / 10,
      batchedP50Ms: fmt(quantile(batched.delaysUs, 0.5)),
      batchedMaxMs: fmt(quantile(batched.delaysUs, 1)),
      detectionP50Ms: fmt(quantile(detections, 0.5)),
      falseSuspicionsPerHour: Math.round(falseSuspicionsPerHour * 100) / 100,
    }),
  );
  // The chart: dissemination with the defaults beside batched, and each crash's detection.
  return {
    title: `gossip (simulated, virtual time): ${o.nodes} nodes, 100 ms links, ${o.ops} CRDT updates at ${o.rate}/s`,
    latency: [
      ...updates.delaysUs.map((us) => ({ series: 'update seen by every node (defaults)', ms: us / 1000 })),
      ...batched.delaysUs.map((us) => ({ series: `update seen by every node (a push per link per ${o.batchTicks} ticks)`, ms: us / 1000 })),
    ],
    latencyLabel: 'update until every node saw it',
    failover: detections.map((us, trial) => ({ series: 'crash until declared dead by all', trial, ms: us / 1000 })),
    failoverLabel: 'a member crashes: time until every live member declared it dead',
  };
}
