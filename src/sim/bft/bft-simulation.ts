/**
 * One BFT simulator seed (the Raft and gossip simulators' shape): N replicas, each the REAL
 * host (src/runtime/bft-host.ts) over a simulated disk, and a few honest clients (the real
 * client host) issuing key-value writes, reads and a poisoned command, over the simulator's
 * network (src/sim/network.ts: loss, duplication, reordering delays, partitions) with
 * AUTHENTICATED links (a message whose `from` is not its link's sender is dropped), crashes and
 * restarts from what was durable, and B Byzantine replicas (byzantine.ts), all drawn from one
 * seed, so a seed reproduces a run event for event.
 *
 * PHASES. Faults for `faultPhaseUs` (clients submit throughout), then the heal: partitions
 * removed, the network calm, crashed replicas restarted (Byzantine ones go on misbehaving); in
 * half the seeds (`restartAllChance`) EVERY replica crashes at the heal and restarts at once,
 * losing its writes in flight: no peer then holds what the others lost, so every write a client
 * saw acknowledged must come back from each replica's own disk (TESTING.md's "every node
 * crashes"; the lost-write checker). Liveness: every request of an honest client completes
 * within `livenessBoundUs` of the heal.
 * Checks in bft-checkers.ts. With `trace` (`--trace`), a line per request, reply, client
 * event, view change, state transfer, crash and restart, to follow a stuck request end to end;
 * tracing draws nothing from the PRNG, so a traced seed runs as the untraced one.
 */
import { createPrng, type Prng } from '../../core/prng.ts';
import type { BftMessage, ReplicaMessage } from '../../core/bft/messages.ts';
import { encodeKvCommand, type KvCommand } from '../../machines/kv.ts';
import { NodeBftKeyring } from '../../io/crypto/bft-crypto-node.ts';
import { BftClientHost } from '../../runtime/bft-client-host.ts';
import { BftDurable } from '../../runtime/bft-durable.ts';
import { BftHost } from '../../runtime/bft-host.ts';
import { chance, pick, sample, shuffled } from '../distributions.ts';
import { Network } from '../network.ts';
import { Scheduler } from '../scheduler.ts';
import { SimClock } from '../sim-clock.ts';
import { BftCheckers, type BftCounts } from './bft-checkers.ts';
import { describeBftFaultMix, drawBftFaultMix, type BftFaultMix, type ByzantineBehaviour } from './bft-fault-mix.ts';
import { ByzantineReplica, Collusion, type ByzantineEnv } from './byzantine.ts';
import { KvBftMachine, poisonKey } from './kv-bft-machine.ts';
import type { BftSabotage } from './bft-sabotage.ts';

export const bftSimulationDefaults = {
  nodes: 4,
  clients: 3,
  opsPerClient: 12,
  faultPhaseUs: 10_000_000,
  livenessBoundUs: 60_000_000,
  tickMs: 10,
  queuedPerLinkMax: 4096,
  /** The share of seeds in which every replica crashes and restarts at the heal. */
  restartAllChance: 0.5,
} as const;

export interface BftSimulationOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly byzantine?: number;
  readonly faults?: boolean;
  /** Force every Byzantine replica's behaviour (tests). */
  readonly behaviour?: ByzantineBehaviour;
  readonly sabotage?: BftSabotage | null;
  /** Debugging: called with one line per request, reply, client event, view change, crash and restart (`--trace`). */
  readonly trace?: (line: string) => void;
}

export interface BftRunResult {
  readonly seed: number;
  readonly counts: BftCounts;
  readonly details: readonly string[];
  readonly faultMix: string;
  readonly ok: boolean;
  readonly stats: { requestsCompleted: number; viewChanges: number; stateTransfers: number; linkForgeriesDropped: number; collusionSplits: number; clusterRestarts: number; endUs: number };
}

interface ReplicaNode {
  readonly id: string;
  readonly disk: BftDurable;
  host: BftHost | null;
  machine: KvBftMachine | null;
  life: number;
  lastWriteAtUs: number;
  readonly byz: ByzantineReplica | null;
}

/** After every replica restarted: how long (virtual) before the acknowledged writes are checked, with no new request yet. */
const restartSettleUs = 1_000_000;

const calm = { lossRate: 0, duplicateRate: 0, delay: { kind: 'uniform', minUs: 500, maxUs: 5000 } } as const;

export function runBftSimulation(options: BftSimulationOptions): BftRunResult {
  const n = options.nodes ?? bftSimulationDefaults.nodes;
  const ids = Array.from({ length: n }, (_, i) => `r${i}`);
  const prng: Prng = createPrng(options.seed);
  let mix: BftFaultMix = drawBftFaultMix(prng, ids, options.byzantine ?? 0);
  if (options.behaviour !== undefined) mix = { ...mix, byzantine: new Map([...mix.byzantine.keys()].map((id, i) => [options.behaviour === 'collude' ? (ids[i] as string) : id, options.behaviour as ByzantineBehaviour])) };
  if (options.faults === false) mix = { ...mix, network: calm, partitions: { ...mix.partitions, ratePerS: 0 }, crashes: { ...mix.crashes, ratePerS: 0 } };
  const sabotage = options.sabotage ?? null;
  const scheduler = new Scheduler();
  const keyring = new NodeBftKeyring(options.seed);
  const checkers = new BftCheckers();
  const clientIds = Array.from({ length: bftSimulationDefaults.clients }, (_, i) => `c${i}`);
  const clients = new Map<string, BftClientHost>();
  const nodes = new Map<string, ReplicaNode>();
  const stats = { requestsCompleted: 0, viewChanges: 0, stateTransfers: 0, linkForgeriesDropped: 0, collusionSplits: 0, clusterRestarts: 0, endUs: 0 };
  const honest = (id: string): boolean => !mix.byzantine.has(id);
  const firstHonest = ids.find(honest) ?? 'r0';
  const trace = options.trace;
  const say = (line: string): void => trace?.(`${(scheduler.nowUs / 1e6).toFixed(3)} ${line}`);
  const traced = (m: BftMessage): string | null => {
    if (m.type === 'request') return `request ${m.from}->${m.to} ${m.request.client}/${m.request.timestamp}${m.request.readOnly ? ' ro' : ''}`;
    if (m.type === 'reply') return `reply ${m.from}->${m.to} ${m.timestamp}${m.readOnly ? ' ro' : ''} v${m.view} ${m.outcome}`;
    return null;
  };

  const network = new Network<BftMessage>(scheduler, prng, { ...mix.network, queuedPerLinkMax: bftSimulationDefaults.queuedPerLinkMax }, (from, to, m) => {
    // Authenticated links (DESIGN.md §4): the frame router refuses a `from` that is not the peer.
    if (m.from !== from) {
      stats.linkForgeriesDropped++;
      return;
    }
    if (trace !== undefined) {
      const t = traced(m);
      if (t !== null) say(`deliver ${t}`);
    }
    if (m.type === 'reply') {
      clients.get(to)?.receive(m);
      return;
    }
    const node = nodes.get(to);
    if (node?.host == null) return;
    node.byz?.incoming(m);
    node.host.receive(m as ReplicaMessage);
  });
  const wire = (m: BftMessage): void => {
    if (sabotage === 'drop-replies' && m.type === 'reply' && honest(m.from)) return;
    if (trace !== undefined) {
      const t = traced(m);
      if (t !== null) say(`send ${t}`);
    }
    network.send(m.from, m.to, m);
  };
  const env: ByzantineEnv = { ids, keyring, prng, scheduler, wire, slowHoldUs: (50 - 8) * bftSimulationDefaults.tickMs * 1000 };
  const colluders = new Set([...mix.byzantine].filter(([, b]) => b === 'collude').map(([id]) => id));
  const collusion = colluders.size > 0 ? new Collusion(env, colluders) : null;
  for (const id of ids) {
    const behaviour = mix.byzantine.get(id);
    nodes.set(id, { id, disk: new BftDurable(), host: null, machine: null, life: 0, lastWriteAtUs: 0, byz: behaviour === undefined ? null : new ByzantineReplica(id, behaviour, env, collusion) });
  }

  const start = (node: ReplicaNode): void => {
    node.life++;
    const life = node.life;
    // The sabotage keeps the old life's machine and does not restore it (bft-sabotage.ts).
    const keepOld = sabotage === 'no-restore-on-restart' && node.id === firstHonest && node.machine !== null;
    const machine =
      keepOld && node.machine !== null
        ? node.machine
        : new KvBftMachine((command) => {
            if (honest(node.id)) checkers.duplicate(node.id, command);
          });
    node.machine = machine;
    const host: BftHost = new BftHost({
      config: { id: node.id, replicas: ids },
      durable: keepOld ? Object.assign(node.disk.clone(), { state: null }) : node.disk,
      machine,
      writes: {
        write: (w, done) => {
          // Writes become durable in call order (storage.ts's promise), each after its latency.
          const at = Math.max(scheduler.nowUs + sample(prng, mix.storageLatency), node.lastWriteAtUs);
          node.lastWriteAtUs = at;
          scheduler.at(at, () => {
            if (node.life !== life) return;
            node.disk.apply(sabotage === 'forget-committed' ? { ...w, persist: { ...w.persist, committed: [] } } : w);
            done();
          });
        },
      },
      crypto: sabotage === 'accept-any-signature' && honest(node.id) ? { sign: keyring.for(node.id).sign, verify: (items, done) => done(items.map(() => true)) } : keyring.for(node.id),
      send: (m) => (node.byz === null ? wire(m) : node.byz.outgoing(m)),
      clock: new SimClock(scheduler, 1),
      tickMs: bftSimulationDefaults.tickMs,
      fetchState: (seq, _digest, done) =>
        scheduler.after(5000, () => {
          for (const peer of shuffled(prng, ids)) {
            const state = peer === node.id ? null : (nodes.get(peer)?.host?.stateAt(seq) ?? null);
            if (state !== null) return done(state);
          }
          done(null);
        }),
      observer: {
        onExecuted: (seq, _view, applied) => {
          if (honest(node.id)) checkers.executed(node.id, sabotage === 'misnumber' && node.id === firstHonest && seq % 3 === 0 ? seq + 1 : seq, applied);
        },
        onEvent: (e) => {
          if (e.kind === 'view-changed') stats.viewChanges++;
          if (e.kind === 'view-changed' || e.kind === 'view-change-started' || e.kind === 'state-behind' || e.kind === 'checkpoint-stable') say(`${node.id} ${JSON.stringify(e)}`);
        },
        onStateTransfer: (seq, installed) => {
          say(`${node.id} state transfer ${seq} ${installed ? 'installed' : 'failed'}`);
          if (installed) stats.stateTransfers++;
        },
      },
      fail: (error) => checkers.engineError(node.id, error),
    });
    node.host = host;
    say(`${node.id} start (life ${life})`);
    host.start();
    if (node.byz !== null) {
      const byz = node.byz;
      const tick = (): void => {
        if (node.life !== life) return;
        byz.tick();
        scheduler.after(bftSimulationDefaults.tickMs * 1000, tick);
      };
      scheduler.after(bftSimulationDefaults.tickMs * 1000, tick);
    }
  };
  const crash = (node: ReplicaNode): void => {
    say(`${node.id} crash`);
    node.life++;
    node.host?.stop();
    node.host = null;
  };
  for (const node of nodes.values()) start(node);

  // Honest clients: writes with unique values, unordered reads, a poisoned command now and then.
  /** Per client, one more write once every replica has restarted (the cluster must take new writes after that). */
  const writesAfterRestart: (() => void)[] = [];
  for (const c of clientIds) {
    const host = new BftClientHost({
      config: { id: c, replicas: ids },
      lastTimestamp: 0,
      writeTimestamp: (_t, done) => done(),
      crypto: keyring.for(c),
      send: wire,
      onEvent: (e) => {
        say(`${c} ${e.kind} ${e.timestamp}`);
        if (e.kind !== 'completed') return;
        stats.requestsCompleted++;
        checkers.completed(c, e.outcome);
      },
      clock: new SimClock(scheduler, 1),
      tickMs: bftSimulationDefaults.tickMs,
      fail: (error) => checkers.engineError(c, error),
    });
    clients.set(c, host);
    host.start();
    let sent = 0;
    const next = (): void => {
      if (sent >= bftSimulationDefaults.opsPerClient || scheduler.nowUs >= bftSimulationDefaults.faultPhaseUs) return;
      sent++;
      const roll = prng.nextFloat();
      const key = `k${prng.nextInt(4)}`;
      const command: KvCommand = roll < 0.2 ? { op: 'read', key } : roll < 0.25 ? { op: 'write', key: poisonKey, value: `${c}:${sent}` } : { op: 'write', key, value: `${c}:${sent}` };
      const op = encodeKvCommand(command);
      const ts = host.submit(op, command.op === 'read');
      say(`${c} submit ${ts} ${command.op}`);
      if (ts !== null) checkers.submit(c, op, scheduler.nowUs, command.op === 'write' && command.key !== poisonKey);
      scheduler.after(100_000 + prng.nextInt(800_000), next);
    };
    scheduler.after(prng.nextInt(500_000), next);
    writesAfterRestart.push(() => {
      const op = encodeKvCommand({ op: 'write', key: 'k0', value: `${c}:after-restart` });
      const ts = host.submit(op, false);
      say(`${c} submit ${ts} write after the restart`);
      if (ts !== null) checkers.submit(c, op, scheduler.nowUs, true);
    });
  }

  const checkSurvived = (): void => {
    const up = [...nodes.values()].filter((x) => honest(x.id) && x.host !== null && x.machine !== null);
    checkers.survived(up.map((x) => ({ id: x.id, executedSeq: x.host?.status().lastExecutedSeq ?? 0, holds: (op: string) => x.machine?.holdsWrite(op) === true })));
  };

  // The nemesis: partitions and crashes during the fault phase, drawn every 100 ms.
  const down = new Set<string>();
  if (options.faults !== false) {
    const nemesis = (): void => {
      if (scheduler.nowUs >= bftSimulationDefaults.faultPhaseUs) return;
      if (chance(prng, mix.partitions.ratePerS / 10)) {
        const side = shuffled(prng, ids).slice(0, 1 + prng.nextInt(n - 1));
        const cut = network.partition(side, ids.filter((x) => !side.includes(x)));
        scheduler.after(sample(prng, mix.partitions.duration), () => network.heal(cut));
      }
      if (chance(prng, mix.crashes.ratePerS / 10)) {
        const node = nodes.get(pick(prng, ids)) as ReplicaNode;
        if (node.host !== null) {
          crash(node);
          down.add(node.id);
          scheduler.after(sample(prng, mix.crashes.downtime), () => {
            if (!down.delete(node.id)) return;
            start(node);
          });
        }
      }
      scheduler.after(100_000, nemesis);
    };
    scheduler.after(100_000, nemesis);
  }

  scheduler.runUntil(bftSimulationDefaults.faultPhaseUs);
  network.healPartitions();
  network.setFaults(calm);
  if (options.faults !== false && chance(prng, bftSimulationDefaults.restartAllChance)) {
    say('every replica crashes and restarts');
    stats.clusterRestarts++;
    for (const node of nodes.values()) if (node.host !== null) crash(node);
    for (const node of nodes.values()) start(node);
    // Before any new request: what clients were told committed must be there already (a read now
    // would see it), not only once a later view change re-proposes it from prepared certificates.
    scheduler.runUntil(scheduler.nowUs + restartSettleUs);
    checkSurvived();
    for (const w of writesAfterRestart) w();
  } else for (const id of down) start(nodes.get(id) as ReplicaNode);
  down.clear();
  const deadlineUs = bftSimulationDefaults.faultPhaseUs + bftSimulationDefaults.livenessBoundUs;
  while (scheduler.nowUs < deadlineUs && checkers.pending > 0 && checkers.counts.engineErrors === 0) scheduler.runUntil(scheduler.nowUs + 500_000);
  stats.endUs = scheduler.nowUs;
  stats.collusionSplits = collusion?.attacks ?? 0;
  checkers.finish();
  checkSurvived();
  const k0 = checkers.counts;
  const where =
    k0.stalls + k0.agreement > 0
      ? [...nodes.values()].map((x) => {
          const st = x.host?.status();
          return st === undefined ? `${x.id} down` : `${x.id}${x.byz === null ? '' : '(byz)'} view ${st.view}${st.viewChanging ? ' changing' : ''} executed ${st.lastExecutedSeq} stable ${st.stableSeq} pending ${st.pendingRequests}`;
        })
      : [];
  for (const node of nodes.values()) node.host?.stop();
  for (const c of clients.values()) c.stop();
  const k = checkers.counts;
  return { seed: options.seed, counts: { ...k }, details: where.length > 0 ? [...checkers.details, `  at the end: ${where.join('; ')}`] : checkers.details, faultMix: describeBftFaultMix(mix), ok: k.agreement + k.validity + k.duplicates + k.stalls + k.lostWrites + k.engineErrors === 0, stats };
}
