/**
 * The failover trials of the browser benchmark (bench/browser.ts measures 3 to 5): a fresh
 * 3-node cluster, its leader killed (crashed, or its page closed so that `pagehide` hands over),
 * timed from just before the kill until a survivor's write commits under a new leader.
 * BENCH_DEBUG=1 prints each trial's timeline: every survivor's role, leader and link events,
 * in ms after the kill (page clock, as the events reach the page: the driver reports a role
 * once the Ready that changed it is durable, so these times include the write), and the
 * IndexedDB writes each survivor made until the commit, with the time they took.
 */
import { performance } from 'node:perf_hooks';
import type { Browser } from '@playwright/test';
import { Cluster, type ClusterOptions } from '../src/playwright/index.ts';


/**
 * Each page of `survivors` proposes a write at once, as a client whose write was waiting would;
 * answers the index of the first whose write commits under a new leader. A proposal made while no
 * leader is known is held by the node and resubmitted the moment a new leader is known
 * (src/runtime/proposals.ts), so this measures when the cluster commits again, with no polling.
 * A write that still committed under the old leader (it was not dead yet) does not count: the
 * page proposes again.
 */
export function firstCommit(c: Cluster, survivors: readonly number[], key: string, oldTerm: number): Promise<number> {
  return Promise.any(
    survivors.map(async (i) => {
      const r = await c.page(i).evaluate(
        async ({ k, oldTerm }) => {
          const h = window.peerquorumHarness;
          if (h === undefined) return { ok: false as const, code: 'NO_HARNESS' };
          for (let n = 0; n < 100; n++) {
            const result = await h.propose({ op: 'write', key: `${k}-${n}`, value: 'x' });
            if (!result.ok) return { ok: false as const, code: result.error.code };
            const s = await h.status();
            if (s.ok && s.value.term > oldTerm) return { ok: true as const };
          }
          return { ok: false as const, code: 'OLD_LEADER' };
        },
        { k: `${key}-${i}`, oldTerm },
      );
      if (!r.ok) throw new Error(`node ${i}: ${r.code}`);
      return i;
    }),
  );
}

/** Ticks the followers follow the leader before it is crashed (see `steady`). */
export const steadyTicks = 150;

/**
 * Until every follower has ticked `steadyTicks` more: the leader is then one of some standing,
 * as in an app, and the phi leader watch is armed (it watches a leader only once it has followed
 * it for arrivalWindowMax = 100 ticks, so that phi's window holds its heartbeats). Counted in the
 * gossip host's ticks (the watch's clock) when gossip runs, else the driver's; both are 10 ms.
 */
export async function steady(c: Cluster, followers: readonly number[]): Promise<void> {
  const ticks = async (i: number): Promise<number> => {
    const m = await c.metrics(i);
    return m.gossip?.ticks ?? m.driver.ticks;
  };
  const start = await Promise.all(followers.map(ticks));
  await c.until(`${steadyTicks} ticks of following`, async () => {
    const now = await Promise.all(followers.map(ticks));
    return now.every((t, j) => t - (start[j] as number) >= steadyTicks) ? true : undefined;
  });
}

/** A failover trial: its time, and how often a follower forgot the live leader before the kill. */
export interface Trial {
  readonly ms: number;
  readonly wrongForgets: number;
}

/**
 * One failover trial on a fresh 3-node cluster, so that every trial starts from the same state
 * (a node can also be reopened in place: e2e/webrtc-restart.spec.ts): kill the leader (crash or
 * close) and time until a survivor's write commits.
 */
export async function failoverTrial(browser: Browser, options: ClusterOptions, baseURL: string, trial: string, crash: boolean): Promise<Trial> {
  const c = await Cluster.open(browser, options, baseURL);
  try {
    const leader = await c.waitForLeader();
    await c.writeMany(leader, { prefix: `before-${trial}-`, count: 20 });
    await c.waitForConvergence({ minApplied: 20 });
    // Start from a whole cluster: every link open (over WebRTC the followers' link to each other
    // may still be connecting just after the cluster opened, and a vote sent on it is lost).
    await c.until('every link open', async () => {
      const all = await c.statuses();
      return [...all.values()].every((s) => c.ids.every((id) => id === s.id || s.links[id] === 'open')) ? true : undefined;
    });
    const survivors = c.alive.filter((i) => i !== leader);
    // Each survivor writes once now: its page then holds a client session, as a page that
    // writes does. Else its first write after the failover commits twice in a row (its
    // session's registration, then the write; proposals.ts) and the trial times two commits.
    for (const i of survivors) await c.write(i, `session-${trial}-${i}`, 'x');
    await steady(c, survivors);
    const was = await c.status(leader);
    if (was.role !== 'leader') throw new Error(`node ${leader} lost its leadership while the cluster settled (now ${was.role} in term ${was.term})`);
    const oldTerm = was.term;
    // Every leader forgotten so far was alive: a wrong phi suspicion (0 without gossip).
    const before = await Promise.all(survivors.map((i) => c.metrics(i)));
    const wrongForgets = before.map((m) => m.leaderWatch?.leadersForgotten ?? 0).reduce((a, b) => a + b, 0);
    // A crash is sent on a CDP session opened beforehand: opening it is a round trip to the
    // browser, tens of ms on a loaded machine, which the clock would otherwise count.
    const page = c.page(leader);
    const cdp = crash ? await page.context().newCDPSession(page) : null;
    const crashed = crash ? page.waitForEvent('crash', { timeout: 60_000 }) : null;
    const t0 = performance.now();
    const t0EpochMs = performance.timeOrigin + t0;
    // The renderer dies before it can answer: do not wait for one.
    if (cdp !== null) void cdp.send('Page.crash').catch(() => undefined);
    const killed = crashed === null ? c.kill(leader) : crashed.then(() => c.kill(leader));
    const race = firstCommit(c, survivors, `after-${trial}`, oldTerm);
    if (process.env.BENCH_DEBUG) console.log(`  ${trial}: killing node ${leader}`);
    await race;
    const ms = performance.now() - t0;
    if (process.env.BENCH_DEBUG) {
      console.log(`  ${trial}: ${ms.toFixed(1)} ms`);
      for (const [j, i] of survivors.entries()) {
        const events = await c.page(i).evaluate(() => window.peerquorumHarness?.events() ?? []);
        const after = events.filter((e) => e.atMs >= t0EpochMs);
        const metrics = await c.metrics(i);
        const watch = metrics.leaderWatch;
        if (watch !== null) console.log(`    node ${i} leader watch: ${JSON.stringify(watch)}`);
        // Role and leader events reach the page only once the Ready that changed them is durable,
        // so a slow IndexedDB write shows as a late event: what the writes took since the kill.
        const was = (before[j] as typeof metrics).driver;
        console.log(`    node ${i} storage since the kill: ${metrics.driver.storageWrites - was.storageWrites} writes, ${(metrics.driver.storageWriteMs - was.storageWriteMs).toFixed(1)} ms in all`);
        console.log(`    node ${i}: ${after.map((e) => `+${(e.atMs - t0EpochMs).toFixed(1)} ${e.type === 'role' ? `${e.role}@${e.term}` : e.type === 'leader' ? `leader=${String(e.leader)}@${e.term}` : e.type === 'link' ? `link ${e.peer} ${e.state}` : e.type}`).join(', ')}`);
      }
    }
    await killed;
    return { ms, wrongForgets };
  } finally {
    await c.close();
  }
}
