/**
 * The transport compliance suite against DataChannelTransport over real WebRTC (PeerJS
 * signaling through the local PeerServer, no ICE servers, loopback only).
 *
 * Part 1 runs test/io/transport-compliance.ts ITSELF, unchanged, in a page: the spec transpiles
 * it, the page evaluates it with a small Vitest shim (e2e/pages/webrtc-vitest-shim.ts), and each
 * of its tests becomes one Playwright test here, twice: against DataChannelTransport directly,
 * and through the main-thread relay (relayTransport + PortTransport over a MessagePort, the
 * fallback when channels cannot be transferred). Every node the suite connects is its own PeerJS
 * peer with its own RTCPeerConnections, channels and handshake, so this is the same WebRTC path
 * as between browsers, within one page (the suite reads stats synchronously, so all its
 * transports must live in one JS realm).
 *
 * Part 2 checks the same contract between separate browser contexts (one node per context),
 * driving each context's transport through `page.evaluate`: addressee only with the true
 * sender, a thousand frames, oversized and unaddressed frames dropped and counted without a
 * throw, links opening and closing as peers come and go, nothing delivered after close.
 */
import { expect, test } from '@playwright/test';
import {
  closeNodes,
  complianceTestNames,
  openNodes,
  sharedSignaling,
  transpiledComplianceSuite,
  NodePage,
  uniqueCluster,
} from './pages/webrtc-node-helpers.ts';

const suiteCode = transpiledComplianceSuite();
const suiteTests = complianceTestNames(suiteCode);

for (const variant of ['direct', 'relay'] as const) {
  test.describe(`transport compliance suite, in one page over real WebRTC (${variant})`, () => {
    test('the suite has tests to run', () => {
      expect(suiteTests.length).toBeGreaterThanOrEqual(5);
    });

    for (const name of suiteTests) {
      test(name, async ({ page }) => {
        page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
        await page.goto('/webrtc-harness.html');
        await page.waitForFunction(() => document.body.dataset.ready === 'true');
        const node = new NodePage(page.context(), page, 'suite');
        const results = await node.runCompliance(suiteCode, name, sharedSignaling, variant);
        expect(results.map((r) => r.name)).toEqual([name]);
        const [result] = results;
        expect(result?.error ?? '').toBe('');
        expect(result?.ok).toBe(true);
      });
    }
  });
}

test.describe('transport compliance scenarios between browser contexts', () => {
  let nodes: NodePage[] = [];

  test.afterEach(async () => {
    await closeNodes(nodes);
    nodes = [];
  });

  async function startCluster(ids: string[], browser: import('@playwright/test').Browser): Promise<NodePage[]> {
    const cluster = uniqueCluster('cc');
    nodes = await openNodes(browser, ids);
    await Promise.all(nodes.map((n) => n.start({ cluster, peers: ids, signaling: sharedSignaling, mode: 'main' })));
    await waitForMesh(nodes);
    return nodes;
  }

  async function waitForMesh(ns: NodePage[]): Promise<void> {
    for (const n of ns) {
      await expect
        .poll(async () => Object.entries((await n.snapshot()).links).filter(([, s]) => s === 'open').length, { message: `${n.self} links` })
        .toBe(ns.length - 1);
    }
  }

  test('delivers a frame to its addressee only, intact, with the true sender', async ({ browser }) => {
    const [a, b, c] = await startCluster(['a', 'b', 'c'], browser);
    await a!.send('b', [1, 2, 3, 255]);
    await expect.poll(async () => (await b!.frames()).length).toBe(1);
    expect((await b!.frames())[0]).toMatchObject({ from: 'a', length: 4, head: [1, 2, 3, 255] });
    // Give a misdirected copy time to show up, then check nobody else got anything.
    await a!.page.waitForTimeout(100);
    expect((await a!.frames()).length).toBe(0);
    expect((await c!.frames()).length).toBe(0);
    expect((await a!.snapshot()).stats.framesSent).toBe(1);
    expect((await b!.snapshot()).stats.framesReceived).toBe(1);
  });

  test('carries a thousand frames between two nodes', async ({ browser }) => {
    const [a, b] = await startCluster(['a', 'b'], browser);
    await a!.call('sendNumbered', 'b', 1000, 5);
    await expect.poll(() => b!.call('numbersFrom', 'a')).toBe(1000);
    expect((await a!.snapshot()).stats.framesDropped).toBe(0);
  });

  test('drops, counts and never throws on an oversized frame or an unknown addressee', async ({ browser }) => {
    const [a, b] = await startCluster(['a', 'b'], browser);
    const tooLarge = 4 * 1024 * 1024 + 1;
    await a!.call('sendPattern', 'b', tooLarge, 1);
    expect((await a!.snapshot()).stats).toMatchObject({ framesDropped: 1, framesDroppedTooLarge: 1 });
    await a!.send('nobody-here', [1]);
    expect((await a!.snapshot()).stats).toMatchObject({ framesDropped: 2, framesDroppedNoLink: 1 });
    await a!.page.waitForTimeout(100);
    expect((await b!.snapshot()).receivedCount).toBe(0);
  });

  test('opens links to peers that appear and closes them when they leave (and reopens on return)', async ({ browser }) => {
    const cluster = uniqueCluster('cc');
    nodes = await openNodes(browser, ['a', 'b']);
    const [a, b] = nodes as [NodePage, NodePage];
    await a.start({ cluster, peers: ['a', 'b'], signaling: sharedSignaling, mode: 'main' });
    await a.page.waitForTimeout(200);
    expect((await a.snapshot()).links.b).toBeUndefined();
    await b.start({ cluster, peers: ['a', 'b'], signaling: sharedSignaling, mode: 'main' });
    await expect.poll(async () => (await a.snapshot()).links.b).toBe('open');
    await b.stop();
    await expect.poll(async () => (await a.snapshot()).links.b).toBe('closed');
    await b.start({ cluster, peers: ['a', 'b'], signaling: sharedSignaling, mode: 'main' });
    await expect.poll(async () => (await a.snapshot()).links.b).toBe('open');
    const events = (await a.snapshot()).linkEvents;
    expect(events).toContain('b:open');
    expect(events).toContain('b:closed');
    await a.send('b', [42]);
    await expect.poll(async () => (await b.frames()).map((f) => f.head[0])).toEqual([42]);
  });

  test('delivers nothing after close, and send after close is a counted drop', async ({ browser }) => {
    const [a, b] = await startCluster(['a', 'b'], browser);
    await b!.call('close');
    await a!.send('b', [1]);
    await a!.call('close');
    await a!.send('b', [2]);
    await a!.page.waitForTimeout(100);
    expect((await b!.snapshot()).receivedCount).toBe(0);
    expect((await a!.snapshot()).stats.framesDropped).toBeGreaterThanOrEqual(1);
  });
});
