/**
 * A node serving clients that are not members (src/io/codec-client.ts: the command line, a
 * benchmark's load generator) over its own links: each request becomes a call of the node's API,
 * and its outcome a reply to the client that asked.
 *
 * - `propose` goes through `NodeHost.propose`: on a follower Raft forwards it to the leader and
 *   the session layer makes the node's retries apply once (proposals.ts), so a client may ask
 *   any member. The reply carries the machine's result bytes.
 * - `read` is a LINEARIZABLE read (ReadIndex, dissertation §6.4) of the query in the request's
 *   JSON, answered as JSON.
 * - `status` answers at once from this node's own state, no consensus: the command line's
 *   `status` asks each member, and a client checks with it that a node answers (and so that the
 *   link authenticated) before it sends what matters.
 *
 * Bounded: at most `pendingPerClientMax` requests of one client and `pendingMax` of all in
 * flight; beyond, a request is answered at once with PROPOSAL_DROPPED (or READ_DROPPED), never
 * queued. Replies are gathered per client and leave in frames of at most
 * `clientItemsPerFrameMax` replies and `replyFrameBytesMax` bytes, flushed once per turn of the
 * event loop (a batch of requests that finish together leaves as one frame).
 */
import type { NodeId } from '../core/raft/types.ts';
import type { ErrorCode } from '../core/error-code.ts';
import { codecLimitsDefault } from '../io/codec-limits.ts';
import { clientItemsPerFrameMax, type ClientBody, type ClientReply, type ClientRequest } from '../io/codec-client.ts';
import { toTaggedError } from './errors.ts';
import type { NodeHost } from './node-host.ts';

export interface ClientServerOptions {
  readonly pendingPerClientMax?: number;
  readonly pendingMax?: number;
}

export interface ClientServerMetrics {
  requests: number;
  replies: number;
  /** Requests answered at once because too many were in flight. */
  refused: number;
  /** Bodies from a client that were replies, not requests (dropped). */
  misdirected: number;
}

export const clientPendingPerClientMaxDefault = 8192;
export const clientPendingMaxDefault = 32_768;
/** Replies' data per frame, at most (far below the 4 MiB frame, so a frame of replies always fits). */
export const replyFrameBytesMax = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The part of a node's status a client sees (the command line's `status`). */
export interface ClientStatus {
  readonly id: NodeId;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly voters: readonly NodeId[];
  readonly protocols: readonly string[];
}

export class ClientServer {
  readonly metrics: ClientServerMetrics = { requests: 0, replies: 0, refused: 0, misdirected: 0 };
  private readonly pendingPerClientMax: number;
  private readonly pendingMax: number;
  private readonly pendingByClient = new Map<NodeId, number>();
  private pending = 0;
  private readonly outbox = new Map<NodeId, ClientReply[]>();
  private flushScheduled = false;

  constructor(
    private readonly host: NodeHost,
    options: ClientServerOptions = {},
  ) {
    this.pendingPerClientMax = options.pendingPerClientMax ?? clientPendingPerClientMaxDefault;
    this.pendingMax = options.pendingMax ?? clientPendingMaxDefault;
    host.router.client.onBody((from, body) => this.receive(from, body));
  }

  private receive(from: NodeId, body: ClientBody): void {
    if (body.t !== 'req') {
      this.metrics.misdirected++;
      return;
    }
    for (const request of body.items) this.serve(from, request);
  }

  private serve(from: NodeId, request: ClientRequest): void {
    this.metrics.requests++;
    const mine = this.pendingByClient.get(from) ?? 0;
    if (mine >= this.pendingPerClientMax || this.pending >= this.pendingMax) {
      this.metrics.refused++;
      const code: ErrorCode = request.op === 'read' ? 'READ_DROPPED' : 'PROPOSAL_DROPPED';
      this.reply(from, failure(request.id, code, `too many requests in flight (${mine} of this client, ${this.pending} in all)`));
      return;
    }
    this.pendingByClient.set(from, mine + 1);
    this.pending++;
    void this.run(request).then((reply) => {
      this.pending--;
      const left = (this.pendingByClient.get(from) ?? 1) - 1;
      if (left === 0) this.pendingByClient.delete(from);
      else this.pendingByClient.set(from, left);
      this.reply(from, reply);
    });
  }

  /** The request's outcome as a reply; never rejects. */
  private async run(request: ClientRequest): Promise<ClientReply> {
    const reply = await this.outcome(request);
    // What a read or a machine answers is bounded by the wire's per-item limit, not by us.
    if (reply.data.byteLength > codecLimitsDefault.entryDataBytesMax) return failure(request.id, 'TOO_LARGE', `the answer is ${reply.data.byteLength} bytes; a reply carries at most ${codecLimitsDefault.entryDataBytesMax}`);
    return reply;
  }

  private async outcome(request: ClientRequest): Promise<ClientReply> {
    try {
      switch (request.op) {
        case 'propose':
          return { id: request.id, code: '', data: await this.host.propose(request.data) };
        case 'read': {
          const value = await this.host.read('linearizable', parseQuery(request.data));
          return { id: request.id, code: '', data: encoder.encode(JSON.stringify(value ?? null)) };
        }
        case 'status':
          return { id: request.id, code: '', data: encoder.encode(JSON.stringify(this.statusNow())) };
        default: {
          const never: never = request.op;
          return failure(request.id, 'CONFIG', `unknown op ${String(never)}`);
        }
      }
    } catch (e) {
      const tagged = toTaggedError(e);
      return failure(request.id, tagged.code, tagged.message);
    }
  }

  private statusNow(): ClientStatus {
    const s = this.host.status();
    return { id: s.id, role: s.role, term: s.term, leader: s.leader, commit: s.commit, applied: s.applied, lastIndex: s.lastIndex, voters: s.voters, protocols: s.protocols };
  }

  private reply(to: NodeId, reply: ClientReply): void {
    let queue = this.outbox.get(to);
    if (queue === undefined) {
      queue = [];
      this.outbox.set(to, queue);
    }
    queue.push(reply);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One turn of the event loop: replies finished by the same Ready leave together.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [to, replies] of this.outbox) {
      for (const frame of cutFrames(replies)) {
        this.metrics.replies += frame.length;
        this.host.router.client.send(to, { t: 'rep', items: frame });
      }
    }
    this.outbox.clear();
  }
}

function failure(id: number, code: ErrorCode, message: string): ClientReply {
  // A message is the node's own text, bounded so a reply always fits its frame.
  return { id, code, data: encoder.encode(message.length > 1000 ? `${message.slice(0, 1000)}...` : message) };
}

/** A read's query from its JSON bytes; a query that is not JSON is the client's mistake. */
function parseQuery(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch {
    throw Object.assign(new Error('a read query must be UTF-8 JSON'), { code: 'CONFIG' });
  }
}

/** Items in frames of at most `clientItemsPerFrameMax` items and about `replyFrameBytesMax` bytes of data. */
export function cutFrames<T extends { readonly data: Uint8Array }>(items: readonly T[], bytesMax: number = replyFrameBytesMax): T[][] {
  const frames: T[][] = [];
  let frame: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (frame.length > 0 && (frame.length >= clientItemsPerFrameMax || bytes + item.data.byteLength > bytesMax)) {
      frames.push(frame);
      frame = [];
      bytes = 0;
    }
    frame.push(item);
    bytes += item.data.byteLength;
  }
  if (frame.length > 0) frames.push(frame);
  return frames;
}
