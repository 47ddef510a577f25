/**
 * Where the Node node's worker script is, and how it is started.
 *
 * - From the build (`dist/node.js`): the worker is `dist/node-worker.js` beside it, plain
 *   JavaScript, started as is.
 * - From source (`src/node/create-node.ts` run by tsx or Vitest): the worker is
 *   `src/node/node-worker.ts`. A Worker does not inherit its parent's loader hooks, and in
 *   Node 20 `execArgv: ['--import', 'tsx']` does not reach a Worker's main module (it fails
 *   with ERR_UNKNOWN_FILE_EXTENSION, tried here on 20.20), so the worker starts from a line of
 *   JavaScript that registers tsx's hooks in the thread (`tsx/esm/api`) and then imports the
 *   `.ts` entry. tsx must be resolvable from the working directory (a devDependency here).
 *
 * Which one is decided by this module's own file name: `.ts` means we run from source. Code
 * that bundles the library itself passes `workerUrl` (a `.js` URL: started as is; a `.ts`
 * one: with tsx).
 */
import { Worker } from 'node:worker_threads';

/** The worker script that sits beside this module, in source or in the build. */
export function defaultWorkerUrl(): URL {
  // Not a literal in `new URL(...)`: bundlers rewrite `new URL('literal', import.meta.url)` into
  // an asset of their own, and the worker here must stay a file beside its entry.
  const file = import.meta.url.endsWith('.ts') ? './node-worker.ts' : './node-worker.js';
  return new URL(file, import.meta.url);
}

/**
 * The Node WebRTC transport module (src/io/transport/node-webrtc-module.ts) a `webrtc` node's
 * worker loads by URL, chosen the same way: from source the `.ts` file (the worker runs tsx),
 * from the build `dist/node-webrtc.js` beside this module (its own entry in vite.config.ts).
 */
export function defaultWebRtcModuleUrl(): URL {
  const file = import.meta.url.endsWith('.ts') ? '../io/transport/node-webrtc-module.ts' : './node-webrtc.js';
  return new URL(file, import.meta.url);
}

export function spawnNodeWorker(name: string, workerUrl: URL = defaultWorkerUrl()): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl, { name });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(bootstrap, { name, eval: true });
}
