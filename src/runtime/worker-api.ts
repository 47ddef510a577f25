/**
 * The worker's comlink API (`WorkerApi`, worker-protocol.ts) over one `NodeHost`. Every method
 * answers a `Result`: a failure is tagged data `{ code, message }`, never a thrown error,
 * because comlink rebuilds thrown errors as plain `Error` (DESIGN.md §3). Events go out on the
 * MessagePort the page hands over in `start`, one `postMessage` per event, in order.
 *
 * Kept apart from `worker.ts` (the entry that calls `Comlink.expose`) so that Node tests can
 * drive the same API without a worker.
 */
import type { NodeId } from '../core/raft/types.ts';
import type { Result } from '../core/result.ts';
import { bftWorkerMethods } from './bft-worker-api.ts';
import { NodeError } from './errors.ts';
import { attempt, attemptAsync, NodeHost, type NodeHostParts } from './node-host.ts';
import type { WorkerApi, WorkerStartOptions } from './worker-protocol.ts';
import { servicesWorkerMethods } from './services-part.ts';

const notStarted = (): Result<never> => ({ ok: false, error: { code: 'STOPPED', message: 'the node is not running' } });

export function createWorkerApi(parts: NodeHostParts = {}): WorkerApi {
  let host: NodeHost | null = null;
  let starting = false;
  let events: MessagePort | null = null;

  const withHost = <T>(f: (h: NodeHost) => T): Result<T> => (host === null ? notStarted() : attempt(() => f(host as NodeHost)));

  return {
    ...servicesWorkerMethods(() => (host === null ? undefined : host.services)),
    ...bftWorkerMethods(() => host?.bft),
    async start(options: WorkerStartOptions, port: MessagePort) {
      return attemptAsync(async () => {
        if (host !== null || starting) throw new NodeError('CONFIG', 'this worker already hosts a node');
        starting = true;
        try {
          const h = await NodeHost.start(options, parts);
          events = port;
          h.on((e) => events?.postMessage(e));
          h.onGossip((e) => events?.postMessage(e));
          h.services?.on((e) => events?.postMessage(e));
          h.health.on((e) => events?.postMessage(e));
          host = h;
          return h.status();
        } catch (e) {
          port.close();
          throw e;
        } finally {
          starting = false;
        }
      });
    },

    propose(command: Uint8Array) {
      return host === null ? Promise.resolve(notStarted()) : attemptAsync(() => (host as NodeHost).propose(command));
    },

    proposeMany(commands: readonly Uint8Array[]) {
      const h = host;
      if (h === null) return Promise.resolve(commands.map(() => notStarted()));
      // One Ready for the whole batch (Driver.batch): each propose steps the core synchronously.
      const all = (): Promise<Result<Uint8Array>[]> => Promise.all(commands.map((c) => attemptAsync(() => h.propose(c))));
      return h.raft === null ? all() : h.raft.batch(all);
    },

    read(consistency, query) {
      return host === null ? Promise.resolve(notStarted()) : attemptAsync(() => (host as NodeHost).read(consistency, query));
    },

    status: () => withHost((h) => h.status()),
    members: () => withHost((h) => h.members()),
    crdtOpen: (name, crdt) => withHost((h) => h.requireGossip().crdtOpen(name, crdt)),
    crdtUpdate: (name, op) => withHost((h) => h.requireGossip().crdtUpdate(name, op)),
    crdtValue: (name, crdt) => withHost((h) => h.requireGossip().crdtValue(name, crdt)),
    transferLeadership: (to?: NodeId) => withHost((h) => h.transferLeadership(to)),
    handOver: () => void withHost((h) => h.handOver()),
    leaderGone: (leader: NodeId) => void withHost((h) => h.leaderGone(leader)),
    attachChannel: (peer: NodeId, channel: RTCDataChannel) => withHost((h) => h.attachChannel(peer, channel)),
    detachChannel: (peer: NodeId) => withHost((h) => h.detachChannel(peer)),
    listenAddress: () =>
      withHost((h) => {
        const address: unknown = (h.links.inner as { readonly address?: unknown }).address;
        return typeof address === 'string' ? address : null;
      }),

    async stop() {
      const h = host;
      host = null;
      const result = h === null ? ({ ok: true, value: undefined } as const) : await attemptAsync(() => h.stop());
      events?.close();
      events = null;
      return result;
    },

    block: (peers: readonly NodeId[]) => void withHost((h) => h.links.block(peers)),
    unblock: (peers?: readonly NodeId[]) => void withHost((h) => h.links.unblock(peers)),
    slow: (delayMs: number) => withHost((h) => h.links.slow(delayMs)),
    injectFrame: (to: NodeId, frame: Uint8Array) => withHost((h) => h.injectFrame(to, frame)),
    metrics: () => withHost((h) => h.metrics()),
    digest() {
      return host === null ? Promise.resolve(notStarted()) : attemptAsync(() => (host as NodeHost).digest());
    },
  };
}
