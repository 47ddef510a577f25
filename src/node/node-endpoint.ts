/**
 * A `worker_threads` port (a `Worker`, `parentPort`, or a `MessagePort`) as a comlink `Endpoint`.
 *
 * Comlink ships the same adapter (comlink/dist/esm/node-adapter.mjs), but only as an `.mjs`
 * whose types TypeScript does not find under `moduleResolution: Bundler` (its declaration is
 * `.d.ts` beside an `.mjs`), and a bundler-free Node import of it would need the deep path to
 * stay stable across comlink releases. It is a dozen lines: ours is below, same behaviour.
 *
 * Node's ports emit the message's data itself; comlink expects a `MessageEvent`, so each
 * listener is handed `{ data }`.
 */
import type { Endpoint } from 'comlink';

/** What `Worker`, `parentPort` and `MessagePort` of worker_threads have in common here. */
export interface NodePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(type: 'message', listener: (data: unknown) => void): unknown;
  off(type: 'message', listener: (data: unknown) => void): unknown;
}

export function nodeEndpoint(port: NodePort): Endpoint {
  const listeners = new WeakMap<object, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => port.postMessage(message, transfer ?? []),
    addEventListener(_type: string, handler: EventListenerOrEventListenerObject) {
      const l = (data: unknown): void => {
        const event = { data } as MessageEvent;
        if (typeof handler === 'function') handler(event);
        else handler.handleEvent(event);
      };
      port.on('message', l);
      listeners.set(handler, l);
    },
    removeEventListener(_type: string, handler: EventListenerOrEventListenerObject) {
      const l = listeners.get(handler);
      if (l === undefined) return;
      port.off('message', l);
      listeners.delete(handler);
    },
  };
}
