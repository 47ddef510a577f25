/**
 * The spec's side of e2e/mixed-node.ts: start the Node node as a child process
 * (`node --import tsx`, one process, so its pid is the node's), send it requests and wait for
 * their answers, and kill it with SIGKILL. Requests waiting when it dies fail; answers are bound
 * to their request by id, so a late answer cannot be taken for another's. Its stderr is kept (the
 * last `stderrCharsMax` characters) to tell why it failed to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KvCommand } from '../src/machines/kv.ts';
import type { NodeStatus, RaftTuning, ReadConsistency } from '../src/runtime/worker-protocol.ts';

export interface MixedNodeStart {
  readonly cluster: string;
  readonly id: string;
  readonly voters: readonly string[];
  readonly dir: string;
  readonly secret: string;
  readonly raft?: RaftTuning;
  readonly signaling: { readonly host: string; readonly port: number; readonly path: string; readonly secure: boolean; readonly key?: string };
}

const stderrCharsMax = 8_000;
/** Beside this file, whatever the working directory of the run. */
const scriptPath = fileURLToPath(new URL('./mixed-node.ts', import.meta.url));
// Generous: tsx compiles the node's modules at start, and one start took 24 s at load average ~37.
const startTimeoutMs = 90_000;
/** Requests waiting for an answer at once (the spec sends one at a time; this only bounds a bug). */
const pendingMax = 64;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

export class MixedNodeProcess {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderr = '';
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    public started: NodeStatus,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(options: MixedNodeStart): Promise<MixedNodeProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', scriptPath, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-stderrCharsMax);
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let made: MixedNodeProcess | undefined;
    const started = new Promise<NodeStatus>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Node node did not start within ${startTimeoutMs} ms: ${stderr}`)), startTimeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the Node node exited (${code ?? signal}) before it started: ${stderr}`));
      });
      lines.on('line', (line) => {
        let message: { event?: string; status?: NodeStatus; id?: number; ok?: boolean; value?: unknown; error?: { code: string; message: string } };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          return; // not ours (a library's console output)
        }
        if (message.event === 'started' && message.status !== undefined) {
          clearTimeout(timer);
          resolve(message.status);
          return;
        }
        made?.settle(message);
      });
    });
    try {
      const status = await started;
      made = new MixedNodeProcess(child, status);
      made.stderr = stderr;
      child.stderr?.on('data', (d: Buffer) => {
        if (made !== undefined) made.stderr = (made.stderr + d.toString('utf8')).slice(-stderrCharsMax);
      });
      child.once('exit', () => made?.failAll());
      return made;
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
  }

  status(): Promise<NodeStatus> {
    return this.request({ op: 'status' }) as Promise<NodeStatus>;
  }

  propose(command: KvCommand): Promise<unknown> {
    return this.request({ op: 'propose', command });
  }

  read(key: string, consistency: ReadConsistency): Promise<string | null> {
    return this.request({ op: 'read', key, consistency }) as Promise<string | null>;
  }

  /** Its transport's and links' counters, and the node's metrics. */
  metrics(): Promise<unknown> {
    return this.request({ op: 'metrics' });
  }

  /** The last characters it wrote to stderr (its link and role changes, with times). */
  get stderrTail(): string {
    return this.stderr;
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private request(body: Record<string, unknown>): Promise<unknown> {
    if (this.pending.size >= pendingMax) return Promise.reject(new Error('too many requests waiting'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin?.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  private settle(message: { id?: number; ok?: boolean; value?: unknown; error?: { code: string; message: string } }): void {
    const p = message.id === undefined ? undefined : this.pending.get(message.id);
    if (p === undefined || message.id === undefined) return;
    this.pending.delete(message.id);
    if (message.ok === true) p.resolve(message.value);
    else p.reject(new Error(`${message.error?.code}: ${message.error?.message}`));
  }

  private failAll(): void {
    for (const p of this.pending.values()) p.reject(new Error(`the Node node exited: ${this.stderr}`));
    this.pending.clear();
  }
}
