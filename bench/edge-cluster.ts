/**
 * A cluster of `peerquorum node` processes for the edge benchmark (bench/edge.ts): each node is
 * the real command line (bin/peerquorum.mjs) in its own process, on 127.0.0.1 free ports, with
 * its file log under one directory, authenticated with a secret. Nodes can be killed (SIGKILL)
 * and started again on the same data directory; `stop` ends every process this module started
 * (SIGTERM, so that a `--cpu-prof` profile is written; SIGKILL for any that lingers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ClusterClient } from '../src/cli/cluster-client.ts';
import type { PeerAddress } from '../src/cli/args.ts';

const bin = join(import.meta.dirname, '..', 'bin', 'peerquorum.mjs');
const stopWaitMs = 8000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

export interface EdgeClusterOptions {
  readonly dir: string;
  readonly ids: readonly string[];
  readonly cluster: string;
  readonly secret: string;
  /** Extra `node` flags for every node process (`--cpu-prof`, `--cpu-prof-dir=...`). */
  readonly nodeFlags?: readonly string[];
  /** Extra `peerquorum node` arguments (`--election-timeout-ms 1000`). */
  readonly nodeArgs?: readonly string[];
}

export class EdgeCluster {
  private readonly ports = new Map<string, number>();
  private readonly procs = new Map<string, ChildProcess>();
  private readonly all: ChildProcess[] = [];
  private readonly logs = new Map<string, string[]>();

  constructor(private readonly o: EdgeClusterOptions) {}

  get peers(): PeerAddress[] {
    return this.o.ids.map((id) => ({ id, url: `ws://127.0.0.1:${this.ports.get(id) as number}` }));
  }

  async start(): Promise<void> {
    writeFileSync(join(this.o.dir, 'secret'), this.o.secret);
    for (const id of this.o.ids) this.ports.set(id, await freePort());
    for (const id of this.o.ids) this.startNode(id);
  }

  startNode(id: string): void {
    const others = this.peers.filter((p) => p.id !== id);
    const args = ['node', '--cluster', this.o.cluster, '--id', id, '--data', join(this.o.dir, id), '--listen', `127.0.0.1:${this.ports.get(id) as number}`, '--peers', others.map((p) => `${p.id}=${p.url}`).join(','), '--secret-file', join(this.o.dir, 'secret'), ...(this.o.nodeArgs ?? [])];
    const child = spawn(process.execPath, [...(this.o.nodeFlags ?? []), join(bin), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const log = this.logs.get(id) ?? [];
    this.logs.set(id, log);
    child.stderr?.on('data', (c: Buffer) => {
      // The last lines only: a long run must not grow the benchmark's memory.
      log.push(...c.toString().split('\n').filter((l) => l !== ''));
      if (log.length > 50) log.splice(0, log.length - 50);
    });
    this.procs.set(id, child);
    this.all.push(child);
  }

  pid(id: string): number | undefined {
    return this.procs.get(id)?.pid;
  }

  kill(id: string): void {
    this.procs.get(id)?.kill('SIGKILL');
  }

  /** The leader the given members agree on, asked of each; throws with the nodes' last log lines after `timeoutMs`. */
  async leader(members: readonly string[], timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const seen = await Promise.all(members.map((id) => this.statusOf(id)));
      const leaders = new Set(seen.map((s) => s?.leader ?? null));
      const [only] = [...leaders];
      if (leaders.size === 1 && typeof only === 'string') return only;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no agreed leader among ${members.join(',')} within ${timeoutMs} ms; last log lines: ${JSON.stringify(Object.fromEntries(this.logs))}`);
  }

  async statusOf(id: string): Promise<{ leader: string | null; applied: number; commit: number } | null> {
    const client = await ClusterClient.connect({ cluster: this.o.cluster, peers: this.peers, only: id, secret: this.o.secret, timeoutMs: 2000 }).catch(() => null);
    if (client === null) return null;
    try {
      const reply = await client.request('status', new Uint8Array(0), 2000);
      return reply.code === '' ? (JSON.parse(new TextDecoder().decode(reply.data)) as { leader: string | null; applied: number; commit: number }) : null;
    } finally {
      await client.close();
    }
  }

  /** Each node's last log line (after `stop`: what it did, storage writes and entries). */
  lastLines(): string[] {
    return [...this.logs.values()].map((lines) => lines[lines.length - 1] ?? '');
  }

  /** Every process this cluster started: SIGTERM, then SIGKILL after `stopWaitMs` for any left. */
  async stop(): Promise<void> {
    const alive = this.all.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      alive.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => c.kill('SIGKILL'), stopWaitMs);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}
