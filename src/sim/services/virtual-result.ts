/**
 * A handler's answer that settles in VIRTUAL time: a thenable the simulator resolves from a
 * scheduler event, so a tool or an agent can take a while (and its node can crash or be cut
 * off meanwhile). The services runtime follows a thenable through its own `then`
 * (src/services/leader-duties.ts, `settle`), so no microtask is involved and a seed stays
 * deterministic. A result whose node crashed before it was due never settles: the process that
 * would have answered is gone.
 */
import type { Value } from '../../machines/services/value.ts';
import type { Scheduler } from '../scheduler.ts';

export class VirtualResult implements PromiseLike<Value> {
  private onValue: ((v: Value) => void) | null = null;

  constructor(scheduler: Scheduler, delayUs: number, value: Value, alive: () => boolean) {
    scheduler.after(delayUs, () => {
      const f = this.onValue;
      this.onValue = null;
      if (f !== null && alive()) f(value);
    });
  }

  then<A = Value, B = never>(onfulfilled?: ((value: Value) => A | PromiseLike<A>) | null): PromiseLike<A | B> {
    if (onfulfilled !== null && onfulfilled !== undefined) this.onValue = (v) => void onfulfilled(v);
    // Nobody chains on it: the runtime only listens.
    return this as unknown as PromiseLike<A | B>;
  }
}
