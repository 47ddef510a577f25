/**
 * The entry of the dedicated Web Worker that hosts one node (DESIGN.md §3): the driver, the
 * core, the state machine, IndexedDB, and the links (BroadcastChannel, or the WebRTC data
 * channels the page transfers here). The page talks to it with comlink (`WorkerApi`); the page
 * side is `src/client/create-node.ts`.
 */
import * as Comlink from 'comlink';
import { createWorkerApi } from './worker-api.ts';

Comlink.expose(createWorkerApi());
