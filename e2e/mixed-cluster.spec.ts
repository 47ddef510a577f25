/**
 * A mixed cluster (issue 15 item 5): two browser contexts (separate storage, like two browsers;
 * each node in a worker with an IndexedDB log) and one Node node (a process of its own,
 * e2e/mixed-node.ts: file log, WebRTC through werift), linked by WebRTC data channels through the
 * same local PeerServer (e2e/peer-server.mjs) and authenticated by one cluster secret.
 *
 * It proves: the three elect one leader and commit; leadership is handed to the Node node (a
 * transfer from whichever browser leads, repeated until the Node node leads), and writes commit
 * under it; its process is killed with SIGKILL while it leads (nothing runs on its way out); the
 * two browsers elect a new leader and keep committing; the Node node restarted on the same data
 * directory boots from its file log (what it had committed is there), gets its links back,
 * catches up, and holds every acknowledged write, before and after the kill.
 *
 * Every wait is on a condition; the timeouts only stop a hang. Every process started is killed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { HarnessStartOptions, WriteReport } from '../src/client/harness.ts';
import type { NodeStatus } from '../src/runtime/worker-protocol.ts';
import { signaling } from './config.ts';
import { MixedNodeProcess } from './mixed-node-process.ts';

const waitMs = 90_000;
const browserIds = ['b0', 'b1'] as const;
const nodeId = 'n2';
const voters = [...browserIds, nodeId];
/**
 * Elections after 2 to 4 s of silence, not the default 150 to 300 ms, on all three nodes: werift
 * recovers a lost SCTP packet only on its retransmission timer (1 s at least, seen in its state),
 * and on this loaded machine (load average ~37) a node also stalls for longer than 300 ms; with
 * the default, the browsers elected one of themselves while the Node node led, in every run.
 */
const raft = { electionTimeoutTicks: 200 } as const;

/** Call a harness method in a page; a failed answer throws with its code. */
async function invoke<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  const answer = await page.evaluate(
    async ({ method, args }) => {
      const h = window.peerquorumHarness as unknown as Record<string, (...a: unknown[]) => unknown> | undefined;
      if (h === undefined) return { ok: false, error: { code: 'CONFIG', message: 'no harness in this page' } };
      return h[method]?.(...args);
    },
    { method, args },
  );
  const r = answer as { ok: boolean; value?: T; error?: { code: string; message: string } };
  if (!r.ok) throw new Error(`${method}: ${r.error?.code}: ${r.error?.message}`);
  return r.value as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() - start > waitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('2 browsers and a Node node over WebRTC: elect, commit, survive SIGKILL of the Node leader, and the Node node catches up from its file log', async ({ browser, baseURL }) => {
  // Generous: on this shared 2-core machine (load average 37 when it was written) one run took 111 s.
  test.setTimeout(300_000);
  const cluster = `mixed-${process.pid}-${Date.now().toString(36)}`;
  const secret = randomBytes(24).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'pq-mixed-'));
  const contexts: BrowserContext[] = [];
  // Where the time goes, printed (never asserted): the spec must stay well within CI's budget.
  const t0 = Date.now();
  const phase = (what: string): void => console.log(`mixed-cluster: ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  let node: MixedNodeProcess | undefined;
  try {
    const pages: Page[] = [];
    for (const id of browserIds) {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(new URL('/harness.html', baseURL).href);
      await page.waitForFunction(() => window.peerquorumHarness !== undefined);
      const start: HarnessStartOptions = { cluster, id, peers: voters, transport: 'webrtc', storage: 'indexeddb', signaling, iceServers: [], secret, raft };
      await invoke<NodeStatus>(page, 'start', start);
      pages.push(page);
    }
    phase('browsers started');
    node = await MixedNodeProcess.start({ cluster, id: nodeId, voters, dir, secret, signaling, raft });
    const n = node;
    phase('Node node started');
    const statuses = async (): Promise<NodeStatus[]> => [...(await Promise.all(pages.map((p) => invoke<NodeStatus>(p, 'status')))), await n.status()];

    // They elect one leader, every link open (the Node node's links authenticated like the browsers').
    const first = await until('one leader known to all, every link open', async () => {
      const all = await statuses();
      const leader = all.find((s) => s.role === 'leader');
      const linked = all.every((s) => voters.every((v) => v === s.id || s.links[v] === 'open'));
      return leader !== undefined && linked && all.every((s) => s.leader === leader.id && s.term === leader.term) ? leader.id : undefined;
    });
    expect((await n.status()).authenticated).toBe(true);
    phase(`${first} leads, every link open`);

    // They commit: writes through the leader, applied on all three.
    const pageOf = (id: string): Page | undefined => pages[browserIds.indexOf(id as (typeof browserIds)[number])];
    const firstKeys = Array.from({ length: 10 }, (_, i) => `first-${i}`);
    for (const k of firstKeys) {
      const leaderPage = pageOf(first);
      if (leaderPage === undefined) await n.propose({ op: 'write', key: k, value: k });
      else await invoke(leaderPage, 'propose', { op: 'write', key: k, value: k });
    }

    phase('10 writes committed');
    // Leadership goes to the Node node: the leading browser hands it over until the Node node
    // leads; writes then commit under it. If it loses the lead meanwhile (a browser's election
    // timer may fire while links are slow), it is handed over again: the kill must find it leading.
    const underNode: string[] = [];
    let beforeKill: NodeStatus | undefined;
    for (let round = 0; beforeKill === undefined; round++) {
      if (round === 5) throw new Error(`the Node node never kept the lead through 10 writes: ${JSON.stringify(await statuses())}`);
      await until('the Node node to lead', async () => {
        const s = await n.status();
        if (s.role === 'leader') return true;
        const leaderPage = s.leader === null ? undefined : pageOf(s.leader);
        if (leaderPage === undefined) return undefined;
        // One request, then time for it to work (a transfer runs for up to an election timeout).
        const asked = await invoke(leaderPage, 'transferLeadership', nodeId).then(
          () => 'asked',
          (x: unknown) => String(x),
        );
        phase(`transfer to ${nodeId} from ${s.leader} (term ${s.term}): ${asked}`);
        const askedAt = Date.now();
        while (Date.now() - askedAt < 8_000) {
          if ((await n.status()).role === 'leader') return true;
          await new Promise((r) => setTimeout(r, 200));
        }
        return undefined;
      });
      phase(`${nodeId} leads`);
      let failure = '';
      for (let i = underNode.length; i < 10 && failure === ''; i++) {
        failure = await n.propose({ op: 'write', key: `node-led-${i}`, value: `v${i}` }).then(
          () => '',
          (e: unknown) => String(e),
        );
        if (failure === '') underNode.push(`node-led-${i}`);
      }
      const s = await n.status();
      if (underNode.length === 10 && s.role === 'leader') beforeKill = s;
      // A write that timed out may still commit: it is not counted as acknowledged, and is written again.
      else console.log(`mixed-cluster: round ${round}: ${underNode.length} writes under the Node node, then ${failure || 'it lost the lead'}: ${JSON.stringify(await statuses().catch(() => []), ['id', 'role', 'term', 'leader', 'commit'])}; its SCTP: ${JSON.stringify(((await n.metrics().catch(() => ({}))) as { sctp?: unknown }).sctp)}`);
    }

    phase('the Node node leads, 10 writes committed under it');
    if (process.env.PEERQUORUM_E2E_VERBOSE === '1') console.log(`mixed-cluster: ${nodeId} stderr:\n${n.stderrTail}\nmetrics: ${JSON.stringify(await n.metrics())}`);
    // SIGKILL while it leads.
    await n.kill();
    node = undefined;

    // The browsers elect a new leader among themselves and keep committing.
    const second = await until('a browser leader', async () => {
      const all = await Promise.all(pages.map((p) => invoke<NodeStatus>(p, 'status')));
      const leader = all.find((s) => s.role === 'leader' && s.term > beforeKill.term);
      return leader !== undefined && all.every((s) => s.leader === leader.id) ? leader.id : undefined;
    });
    phase(`killed; ${second} leads`);
    const secondPage = pageOf(second) as Page;
    const meanwhile = await invoke<WriteReport>(secondPage, 'writeMany', { prefix: 'after-kill-', count: 10 });
    expect(meanwhile.failed).toEqual([]);
    const target = (await invoke<NodeStatus>(secondPage, 'status')).commit;

    // The Node node, restarted on its data directory, boots from its file log and catches up.
    node = await MixedNodeProcess.start({ cluster, id: nodeId, voters, dir, secret, signaling, raft });
    const restarted = node;
    phase('the Node node restarted');
    expect(restarted.started.boot.lastIndex, 'what it had committed was in its file log').toBeGreaterThanOrEqual(beforeKill.commit);
    await until('the Node node to apply what the browsers committed', async () => ((await restarted.status()).applied >= target ? true : undefined));
    phase('the Node node caught up');
    for (const k of firstKeys) expect(await restarted.read(k, 'local')).toBe(k);
    for (const [i, k] of underNode.entries()) expect(await restarted.read(k, 'local')).toBe(`v${i}`);
    for (const k of meanwhile.acked) expect(await restarted.read(k, 'local')).toBe(`v${k.slice('after-kill-'.length)}`);
    // And it takes part in new commits.
    await invoke(secondPage, 'propose', { op: 'write', key: 'last', value: 'x' });
    await until('the last write on the Node node', async () => ((await restarted.read('last', 'local')) === 'x' ? true : undefined));
    phase('a new write reached the Node node');
    // PEERQUORUM_E2E_VERBOSE=1: the restarted Node node's log of link, role and signaling events.
    if (process.env.PEERQUORUM_E2E_VERBOSE === '1') console.log(`mixed-cluster: ${nodeId} stderr:\n${restarted.stderrTail}\nmetrics: ${JSON.stringify(await restarted.metrics())}`);
  } catch (e) {
    // What each node saw, to tell a slow link from a lost one when this fails.
    for (const [i, c] of contexts.entries()) {
      const page = c.pages()[0];
      if (page !== undefined) console.log(`mixed-cluster: ${browserIds[i]}: ${JSON.stringify(await invoke(page, 'status').catch((x: unknown) => String(x)))}`);
    }
    if (node !== undefined) console.log(`mixed-cluster: ${nodeId} metrics: ${JSON.stringify(await node.metrics().catch((x: unknown) => String(x)))}`);
    if (node !== undefined) console.log(`mixed-cluster: ${nodeId} stderr:\n${node.stderrTail}`);
    throw e;
  } finally {
    await node?.kill();
    for (const c of contexts) await c.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
