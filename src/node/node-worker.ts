/**
 * The entry of the `worker_threads` Worker that hosts one Node node (DESIGN.md §7b "Edge"):
 * the same `WorkerApi` as a browser's dedicated worker (src/runtime/worker.ts), over the
 * thread's `parentPort` instead of `self`. Started by src/node/create-node.ts; never imported.
 *
 * Run from source (tests, tsx): the Worker registers tsx's hooks first, so that this `.ts`
 * file and its imports load; from the build it is `dist/node-worker.js` (node-worker-spawn.ts).
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { createWorkerApi } from '../runtime/worker-api.ts';
import { nodeEndpoint } from './node-endpoint.ts';

if (parentPort === null) throw new Error('peerquorum: node-worker must run in a worker_threads Worker (createNode from peerquorum/node starts it)');
Comlink.expose(createWorkerApi(), nodeEndpoint(parentPort));
