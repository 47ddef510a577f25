/**
 * `peerquorum node`: one member in this process, until SIGINT or SIGTERM.
 *
 * The process is its own thread, so the node runs here on `NodeHost` directly (no worker): its
 * log and state under `--data` (storage `{ dir }`: the crash-safe file log, the identity key the
 * peers learned, src/runtime/file-node-storage.ts), its links over WebSocket
 * (webSocketTransportFactory: it listens on `--listen` and dials `--peers`), authenticated with
 * the secret when one is given, and a `ClientServer` so that the command line's clients can ask
 * it (src/runtime/client-server.ts).
 *
 * Stopping (a signal): a leader hands leadership to its most up-to-date follower first
 * (TimeoutNow, dissertation §3.10) and waits up to `handOverWaitMs` for another leader, so the
 * cluster does not sit out an election timeout; then the node stops (its log is durable at every
 * step, so stopping is only closing). A second signal stops at once. A node that fails while
 * running (storage) logs why and exits 5: it must be restarted, and boots from what is durable.
 *
 * Progress lines go to stderr, one per event that matters (roles, leaders); stdout stays empty.
 */
import type { NodeProtocol, WorkerStartOptions } from '../runtime/worker-protocol.ts';
import { NodeHost } from '../runtime/node-host.ts';
import { ClientServer } from '../runtime/client-server.ts';
import { webSocketTransportFactory } from '../io/transport/websocket-factory.ts';
import type { CliCommand } from './args.ts';
import { CliError, exitCodes, readSecretFile } from './cli-error.ts';

type NodeCommand = Extract<CliCommand, { kind: 'node' }>;

/** The Raft tick of a command-line node: the runtime's default. */
const tickMs = 10;

/** How long a leader that hands over waits to see another leader before it stops anyway. */
const handOverWaitMs = 2000;

const protocolsOf: Record<NodeCommand['protocol'], readonly NodeProtocol[]> = {
  raft: ['raft'],
  gossip: ['gossip'],
  bft: ['bft'],
};

/** Run the node; resolves with the exit code once it stopped (a signal, or a failure). */
export async function runNode(cmd: NodeCommand, log: (line: string) => void): Promise<number> {
  const secret = cmd.secretFile === null ? undefined : await readSecretFile(cmd.secretFile);
  const voters = [cmd.id, ...cmd.peers.map((p) => p.id)].sort();
  const options: WorkerStartOptions = {
    cluster: cmd.cluster,
    id: cmd.id,
    voters,
    protocols: protocolsOf[cmd.protocol],
    // The transport is the factory below; a spec is required by the type and never loaded.
    transport: { kind: 'module', url: 'peerquorum:websocket' },
    storage: { dir: cmd.data },
    tickMs,
    machine: { kind: 'kv' },
    ...(secret === undefined ? {} : { secret }),
    // Ticks stay 10 ms (heartbeats every tick); only the election timeout is counted in them.
    ...(cmd.electionTimeoutMs === null ? {} : { raft: { electionTimeoutTicks: Math.ceil(cmd.electionTimeoutMs / tickMs) } }),
  };
  const transportFactory = webSocketTransportFactory({ listen: cmd.listen, peers: Object.fromEntries(cmd.peers.map((p) => [p.id, p.url])) });
  let host: NodeHost;
  try {
    host = await NodeHost.start(options, { transportFactory });
  } catch (e) {
    throw new CliError(exitCodes.node, `node ${cmd.id} could not start: ${e instanceof Error ? e.message : String(e)}`);
  }
  const where = await transportFactory.listen({ cluster: cmd.cluster, self: cmd.id, peers: voters }).then((l) => l.address).catch(() => `${cmd.listen.host}:${cmd.listen.port}`);
  const clients = new ClientServer(host);
  log(`node ${cmd.id} of ${cmd.cluster}: listening on ${where}, members ${voters.join(',')}, data ${cmd.data}, ${secret === undefined ? 'links NOT authenticated (no --secret-file)' : 'links authenticated'}`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (code: number, why: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log(`node ${cmd.id}: ${why}`);
      if (code === exitCodes.ok) await handOver(host, log).catch(() => undefined);
      const term = orElse(() => host.raft?.term() ?? 0, -1);
      await host.stop().catch((e: unknown) => log(`node ${cmd.id}: stop failed: ${e instanceof Error ? e.message : String(e)}`));
      // What the node did, for whoever tunes it: how many entries each durable write carried.
      const summary = orElse(() => {
        const d = host.metrics().driver;
        return `${d.readies} readies, ${d.storageWrites} storage writes of ${d.entriesWritten} entries, ${Math.round(d.storageWriteMs)} ms writing; sessions ${JSON.stringify(host.raft?.sessionStats() ?? {})}`;
      }, 'no metrics');
      log(`node ${cmd.id}: stopped in term ${term} (${clients.metrics.requests} client requests served; ${summary})`);
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log(`node ${cmd.id}: ${signal} again: exiting at once`);
        process.exit(exitCodes.node);
      }
      void stop(exitCodes.ok, `${signal}: stopping`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    host.on((e) => {
      if (e.type === 'role') log(`node ${cmd.id}: ${e.role} in term ${e.term}`);
      else if (e.type === 'error') void stop(exitCodes.node, `failed: ${e.error.code}: ${e.error.message}`);
    });
  });
}

/** `f()`, or `fallback` when it throws (a node that failed may refuse to answer). */
function orElse<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** A leader hands over and waits (bounded) until it no longer leads; anyone else returns at once. */
async function handOver(host: NodeHost, log: (line: string) => void): Promise<void> {
  if (host.raft === null || host.status().role !== 'leader') return;
  const target = host.bestTransferee();
  host.handOver();
  log(`node ${host.id}: leader: handing over to ${target ?? 'nobody'}`);
  const deadline = performance.now() + handOverWaitMs;
  while (performance.now() < deadline) {
    const s = host.status();
    if (s.role !== 'leader' && s.leader !== null && s.leader !== host.id) {
      log(`node ${host.id}: ${s.leader} leads in term ${s.term}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  log(`node ${host.id}: no other leader within ${handOverWaitMs} ms: stopping anyway`);
}
