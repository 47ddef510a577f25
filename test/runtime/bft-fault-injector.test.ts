/**
 * The BFT fault injector (src/runtime/bft-fault-injector.ts), on four real BFT nodes
 * (`NodeHost` with `protocols: ['bft']`, Web Crypto identity keys, a cluster secret, an in-memory
 * hub), as the browser tests and the demo use it. It proves, for each mode put on the primary
 * b0 (`equivocate`, `forge`, `silent`): the honest three execute every write, change view
 * (status view >= 1, a new primary, b0 suspected), and hold the same state digest at the same
 * seq; and that the lies are real lies: an equivocating primary sent validly signed pre-prepares
 * for other batches (counted), a forging one corrupted what it sent, a silent one dropped it. An
 * honest node changes nothing (view 0 stays). A bad mode is refused with CONFIG.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKvResult, encodeKvCommand } from '../../src/machines/kv.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import type { BftByzantineMode } from '../../src/runtime/bft-fault-injector.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';
import { until } from './gossip-test-cluster.ts';

const ids = ['b0', 'b1', 'b2', 'b3'];
const secret = 'the bft fault injector secret 32';
let hosts: NodeHost[] = [];

function options(id: string): WorkerStartOptions {
  return { cluster: 'bft-faults', id, voters: [], protocols: ['bft'], gossipSeeds: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, secret };
}

async function cluster(): Promise<NodeHost[]> {
  const hub = new MemoryHub();
  hosts = await Promise.all(ids.map((id) => NodeHost.start(options(id), { transport: hub.connect(id) })));
  return hosts;
}

async function write(h: NodeHost, key: string, value: string): Promise<void> {
  const r = decodeKvResult(await h.propose(encodeKvCommand({ op: 'write', key, value })));
  expect(r.ok && r.value.op).toBe('write');
}

/** Until the honest nodes stand at one seq with one state digest; answers that seq. */
async function agreed(honest: readonly NodeHost[]): Promise<number> {
  await until('the honest nodes at one seq with one state digest', () => {
    const s = honest.map((h) => h.status().bft);
    return s.every((x) => x !== null && x !== undefined && x.stateSeq === s[0]?.stateSeq && x.stateDigest === s[0]?.stateDigest);
  }, 20_000);
  return honest[0]?.status().bft?.stateSeq ?? -1;
}

afterEach(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  hosts = [];
});

describe('BFT fault injector', () => {
  it('an honest node changes nothing; a bad mode is refused with CONFIG', async () => {
    const hs = await cluster();
    const b0 = hs[0] as NodeHost;
    expect(b0.status().bft?.byzantine).toBe('honest');
    expect(() => b0.bft?.setByzantine('lie' as BftByzantineMode)).toThrow(expect.objectContaining({ code: 'CONFIG' }) as Error);
    await Promise.all(hs.slice(1).map((h, i) => write(h, `k${i}`, 'v')));
    expect(await agreed(hs)).toBeGreaterThanOrEqual(1);
    for (const h of hs) expect(h.status().bft).toMatchObject({ view: 0, primary: 'b0', suspected: [] });
  });

  for (const mode of ['equivocate', 'forge', 'silent'] as const) {
    it(`a primary that goes ${mode}: the honest three change view, agree and keep executing`, async () => {
      const hs = await cluster();
      const [liar, ...honest] = hs as [NodeHost, ...NodeHost[]];
      liar.bft?.setByzantine(mode);
      expect(liar.status().bft?.byzantine).toBe(mode);
      // Several writes at once so that the equivocating primary batches more than one request.
      await Promise.all(honest.flatMap((h, i) => [write(h, `a${i}`, 'x'), write(h, `b${i}`, 'y')]));
      await until('a new view at every honest node', () => honest.every((h) => (h.status().bft?.view ?? 0) >= 1 && h.status().bft?.primary !== 'b0'), 20_000);
      for (const h of honest) expect(h.status().bft?.suspected).toContain('b0');
      await Promise.all(honest.map((h, i) => write(h, `after${i}`, 'z')));
      for (const h of honest) for (let i = 0; i < 3; i++) expect(await h.read('linearizable', `after${i}`)).toBe('z');
      expect(await agreed(honest)).toBeGreaterThanOrEqual(1);
      const faults = liar.bft?.metrics().faults;
      if (mode === 'equivocate') expect(faults?.equivocated).toBeGreaterThan(0);
      if (mode === 'forge') expect(faults?.forged).toBeGreaterThan(0);
      if (mode === 'silent') expect(faults?.dropped).toBeGreaterThan(0);
    }, 60_000);
  }
});
