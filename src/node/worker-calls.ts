/**
 * Calls to a worker that cannot outlive it. A comlink call whose worker thread dies (an uncaught
 * error in it, `terminate`) never answers: comlink waits for a reply that will not come, and the
 * caller with it. Here every call in flight is kept (at most as many as callers wait) and failed
 * with STOPPED when the worker is gone; a call made after that fails at once.
 *
 * Why a set of pending calls and not a race against one "gone" promise per call: each race
 * leaves a reaction on the gone promise until the worker ends, so a node that lives for days
 * would keep one per call it ever made.
 */
import { NodeError } from '../client/node-error.ts';

export class WorkerCalls {
  private readonly pending = new Set<(e: NodeError) => void>();
  private goneWhy: string | null = null;

  /** The worker is gone: every call in flight fails with STOPPED, and every later one. */
  gone(why: string): void {
    if (this.goneWhy !== null) return;
    this.goneWhy = why;
    const failed = new NodeError('STOPPED', `the node's worker is gone (${why})`);
    for (const fail of this.pending) fail(failed);
    this.pending.clear();
  }

  /** `call`'s answer, or STOPPED once the worker is gone. */
  guard<T>(call: () => Promise<T>): Promise<T> {
    if (this.goneWhy !== null) return Promise.reject(new NodeError('STOPPED', `the node's worker is gone (${this.goneWhy})`));
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      call().then(
        (v) => {
          this.pending.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          this.pending.delete(reject);
          reject(e);
        },
      );
    });
  }

  /**
   * `api` with every method call guarded (comlink's remote: each property is a callable proxy).
   * Symbols (comlink's `releaseProxy`) pass through unguarded.
   */
  wrap<A extends object>(api: A): A {
    return new Proxy(api, {
      get: (target, prop) => {
        const member: unknown = Reflect.get(target, prop);
        if (typeof prop === 'symbol' || typeof member !== 'function') return member;
        return (...args: unknown[]) => this.guard(() => Promise.resolve((member as (...a: unknown[]) => unknown)(...args)));
      },
    });
  }
}
