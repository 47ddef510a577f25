/**
 * The in-memory cluster the services' runtime tests use: three nodes through the worker's own
 * API (src/runtime/worker-api.ts, as the page drives it, without a worker), the services
 * machine, the memory transport and storage, real timers with a short tick. Not a test itself.
 */
import type { Result } from '../../src/core/result.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import type { ConfigValidator } from '../../src/machines/services/config.ts';
import { servicesAdapter } from '../../src/runtime/services-part.ts';
import type { ServicesSpec } from '../../src/runtime/services-protocol.ts';
import { createWorkerApi } from '../../src/runtime/worker-api.ts';
import type { NodeEvent, WorkerApi } from '../../src/runtime/worker-protocol.ts';

export interface Member {
  readonly id: string;
  readonly api: WorkerApi;
  readonly events: NodeEvent[];
  readonly port: MessagePort;
  stopped: boolean;
}

export const ids = ['a', 'b', 'c'];

export function value<T>(o: Result<T>): T {
  if (!o.ok) throw new Error(`${o.error.code}: ${o.error.message}`);
  return o.value;
}

export async function startServicesCluster(spec: ServicesSpec = {}, validators: readonly ConfigValidator[] = []): Promise<{ hub: MemoryHub; members: Member[] }> {
  const hub = new MemoryHub();
  const members: Member[] = [];
  const fullSpec: ServicesSpec = { timeIntervalMs: 50, agentHeartbeatMs: 50, ...spec };
  for (const [n, id] of ids.entries()) {
    const api = createWorkerApi({ transport: hub.connect(id), storage: new MemoryRaftStorage(), machine: servicesAdapter(fullSpec, validators) });
    const channel = new MessageChannel();
    const events: NodeEvent[] = [];
    channel.port2.onmessage = (e: MessageEvent<NodeEvent>) => events.push(e.data);
    value(
      await api.start(
        { cluster: 'svc', id, voters: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'services', options: fullSpec }, tickMs: 5, seed: n + 1, proposalTimeoutMs: 5_000 },
        channel.port1,
      ),
    );
    members.push({ id, api, events, port: channel.port2, stopped: false });
  }
  return { hub, members };
}

export async function stopAll(members: readonly Member[]): Promise<void> {
  for (const m of members) await stopMember(m);
}

export async function stopMember(m: Member): Promise<void> {
  if (m.stopped) return;
  m.stopped = true;
  await m.api.stop();
  m.port.close();
}

export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function leaderOf(members: readonly Member[]): Member | undefined {
  return members.find((m) => {
    if (m.stopped) return false;
    const s = m.api.status();
    return s.ok && s.value.role === 'leader';
  });
}

export async function waitLeader(members: readonly Member[]): Promise<Member> {
  return until('a leader', () => leaderOf(members));
}

/** A read of one service on `m` (linearizable). */
export async function query<T>(m: Member, service: string, q: unknown): Promise<T> {
  return value(await m.api.read('linearizable', { service, query: q })) as T;
}

/** Services proposals from a page: `{ op, ... }` for `service`, answered as the part's result. */
export { encodeServiceCommand, decodeServiceAnswer } from '../../src/machines/services/codec.ts';

export function watchEvents(m: Member, watch: number): { index: number; answer: unknown }[] {
  return m.events.filter((e) => e.type === 'service-watch' && e.watch === watch).map((e) => ({ index: (e as { index: number }).index, answer: (e as { answer: unknown }).answer }));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
