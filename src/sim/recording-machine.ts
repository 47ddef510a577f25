/**
 * The application state machine of a simulated node: the KV machine, counting how often a
 * command reaches it. The driver wraps it in client sessions; comparing the count before and
 * after an entry is applied tells the exactly-once checker whether the session layer let the
 * command through to the application (and for which session and seq).
 */
import { KvMachine } from '../machines/kv.ts';
import type { StateMachine } from '../machines/state-machine.ts';

export class RecordingMachine implements StateMachine {
  /** Commands the KV machine applied, since this machine was created. */
  applications = 0;
  readonly kv = new KvMachine();

  apply(command: Uint8Array, index: number): Uint8Array {
    this.applications++;
    return this.kv.apply(command, index);
  }

  snapshot(): Uint8Array {
    return this.kv.snapshot();
  }

  restore(snapshot: Uint8Array): void {
    this.kv.restore(snapshot);
  }
}
