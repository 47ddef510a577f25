/** Test helpers: apply service commands to a composite machine at increasing indices. */
import { CompositeMachine } from '../../../src/machines/services/composite.ts';
import { decodeServiceAnswer, encodeServiceCommand, type ServiceAnswer } from '../../../src/machines/services/codec.ts';
import { timeCommand } from '../../../src/machines/services/composite.ts';
import type { Change } from '../../../src/machines/services/part.ts';

export class Driver {
  index = 0;
  term = 1;
  lastChanges: readonly Change[] = [];
  constructor(readonly machine: CompositeMachine) {}

  /** Applies a service command; answers the decoded result (throws if rejected). */
  run<R = Record<string, unknown>>(service: string, command: object): R {
    const answer = this.answer<R>(service, command);
    if (answer.status !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(answer)}`);
    return answer.result;
  }

  answer<R>(service: string, command: object): ServiceAnswer<R> {
    return this.raw<R>(encodeServiceCommand(service, command));
  }

  raw<R>(bytes: Uint8Array): ServiceAnswer<R> {
    const result = this.machine.apply(bytes, ++this.index, this.term);
    this.lastChanges = this.machine.takeChanges();
    return decodeServiceAnswer<R>(result);
  }

  time(timeMs: number): ServiceAnswer<never> {
    return this.raw(timeCommand(timeMs));
  }
}
