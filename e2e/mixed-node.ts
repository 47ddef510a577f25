/**
 * The Node node of e2e/mixed-cluster.spec.ts, as a process of its own (so that the spec can
 * `kill -9` it): a NodeHost with a file log in `--dir` and WebRTC links through the PeerServer
 * the browsers use (src/io/transport/node-webrtc-transport.ts). Run as
 * `node --import tsx e2e/mixed-node.ts '<json options>'`: one process, no launcher between the
 * spec and the node, so the pid the spec kills is the node's.
 *
 * The spec drives it over stdin/stdout, one JSON object a line: a request
 * `{ "id": 1, "op": "status" | "propose" | "read" | "transfer", ... }` is answered
 * `{ "id": 1, "ok": true, "value": ... }` or `{ "id": 1, "ok": false, "error": { code, message } }`;
 * `{ "event": "started", "status": ... }` comes first, once the node runs. A request line over
 * `requestCharsMax` or not JSON is answered with an error, never acted on.
 */
import { createInterface } from 'node:readline';
import type { KvCommand } from '../src/machines/kv.ts';
import { decodeKvResult, encodeKvCommand } from '../src/machines/kv.ts';
import { NodeWebRtcTransport } from '../src/io/transport/node-webrtc-transport.ts';
import { NodeHost } from '../src/runtime/node-host.ts';
import { toTaggedError } from '../src/runtime/errors.ts';
import type { ReadConsistency } from '../src/runtime/worker-protocol.ts';
// The spec's side, for the options it sends (a type only: nothing of it runs here).
import type { MixedNodeStart } from './mixed-node-process.ts';

type Request =
  | { readonly id: number; readonly op: 'status' }
  | { readonly id: number; readonly op: 'propose'; readonly command: KvCommand }
  | { readonly id: number; readonly op: 'read'; readonly key: string; readonly consistency: ReadConsistency }
  | { readonly id: number; readonly op: 'transfer'; readonly to?: string }
  | { readonly id: number; readonly op: 'metrics' };

const requestCharsMax = 64 * 1024;

function reply(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** The node's transport, for its counters (the spec prints them when a wait fails). */
let transport: NodeWebRtcTransport | undefined;

/** What happens to the links, on stderr, with the time since start: the spec shows the tail when it fails. */
const startMs = Date.now();
function note(what: string): void {
  process.stderr.write(`${((Date.now() - startMs) / 1000).toFixed(1)} s ${what}\n`);
}

/** werift's SCTP state per peer (private fields, read for diagnosis only): is it retransmitting? */
interface WeriftSctpState {
  readonly rto: number;
  readonly cwnd: number;
  readonly flightSize: number;
  readonly sentQueue: readonly { readonly sentCount: number }[];
  readonly outboundQueue: readonly unknown[];
  readonly timer3Handle?: unknown;
}
function sctpStates(): Record<string, unknown> {
  const slots = (transport?.signaling as unknown as { slots?: Map<string, { conn?: { pc: { sctpTransport?: { sctp?: WeriftSctpState } } } }> } | undefined)?.slots;
  const out: Record<string, unknown> = {};
  for (const [peer, slot] of slots ?? []) {
    const sctp = slot.conn?.pc.sctpTransport?.sctp;
    if (sctp === undefined) continue;
    out[peer] = {
      rtoS: sctp.rto,
      cwnd: sctp.cwnd,
      flightSize: sctp.flightSize,
      sent: sctp.sentQueue.length,
      resent: sctp.sentQueue.filter((c) => c.sentCount > 1).length,
      queued: sctp.outboundQueue.length,
      t3: sctp.timer3Handle !== undefined && sctp.timer3Handle !== null,
    };
  }
  return out;
}

async function answer(host: NodeHost, request: Request): Promise<unknown> {
  switch (request.op) {
    case 'status':
      return host.status();
    case 'propose': {
      const decoded = decodeKvResult(await host.propose(encodeKvCommand(request.command)));
      if (!decoded.ok) throw new Error(decoded.error.message);
      return decoded.value;
    }
    case 'read':
      return host.read(request.consistency, request.key);
    case 'transfer':
      return host.transferLeadership(request.to);
    case 'metrics':
      return { node: host.metrics(), links: transport?.linksStats, channels: transport?.stats, sctp: sctpStates() };
    default: {
      const unreachable: never = request;
      return unreachable;
    }
  }
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as MixedNodeStart;
  const host = await NodeHost.start(
    {
      cluster: options.cluster,
      id: options.id,
      voters: options.voters,
      // Unused: the factory below makes the transport.
      transport: { kind: 'webrtc' },
      storage: { dir: options.dir },
      machine: { kind: 'kv' },
      secret: options.secret,
      ...(options.raft === undefined ? {} : { raft: options.raft }),
    },
    {
      transportFactory: (context) => {
        transport = new NodeWebRtcTransport({
          self: context.self,
          cluster: context.cluster,
          peers: context.peers,
          signaling: options.signaling,
          iceServers: [],
          backoff: { baseMs: 100, maxMs: 1000 },
          onError: (e) => note(`error ${e.code}: ${e.message}`),
          onSignalingState: (state) => note(`signaling ${state}`),
        });
        return transport;
      },
    },
  );
  host.on((e) => {
    if (e.type === 'role' || e.type === 'link') note(JSON.stringify(e));
  });
  reply({ event: 'started', status: host.status() });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let request: Request;
    try {
      if (line.length > requestCharsMax) throw new Error(`request over ${requestCharsMax} characters`);
      request = JSON.parse(line) as Request;
    } catch (e) {
      reply({ id: -1, ok: false, error: { code: 'CONFIG', message: String(e) } });
      return;
    }
    answer(host, request).then(
      (value) => reply({ id: request.id, ok: true, value }),
      (e: unknown) => reply({ id: request.id, ok: false, error: toTaggedError(e) }),
    );
  });
  // stdin closed (the spec is gone): stop cleanly.
  lines.on('close', () => {
    void host.stop().finally(() => process.exit(0));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`mixed-node: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
