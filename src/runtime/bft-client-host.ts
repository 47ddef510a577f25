/**
 * The host of a BFT client engine (src/core/bft/client.ts): its Readies through THE Ready
 * processor (ready-loop.ts) in the order client-types.ts states: the highest timestamp handed
 * out is made durable BEFORE the requests that use it leave (a client restarting from disk
 * never reuses a timestamp, or replicas would answer a new request with an old reply), then
 * the request signatures are made (crypto answers stepped back after the Ready), and each
 * completed request is delivered (`onEvent`). Ticks drive retransmission, one per `tickMs`.
 */
import { BftClient } from '../core/bft/client.ts';
import type { BftClientConfig, ClientEvent, ClientInput, ClientReady } from '../core/bft/client-types.ts';
import type { ReplyMessage, RequestMessage } from '../core/bft/messages.ts';
import { performBftCrypto, type BftCryptoProvider } from '../io/crypto/bft-crypto.ts';
import { systemClock, type Clock } from './clock.ts';
import { ReadyLoop } from './ready-loop.ts';

export interface BftClientHostOptions {
  readonly config: BftClientConfig;
  /** The last timestamp durable from an earlier life (0: a new client). */
  readonly lastTimestamp: number;
  /** Make the highest timestamp handed out durable; call `done` once it is. */
  readonly writeTimestamp: (timestamp: number, done: () => void, failed: (error: unknown) => void) => void;
  readonly crypto: BftCryptoProvider;
  readonly send: (m: RequestMessage) => void;
  readonly onEvent: (e: ClientEvent) => void;
  readonly clock?: Clock;
  readonly tickMs: number;
  readonly fail: (error: unknown) => void;
}

export class BftClientHost {
  readonly engine: BftClient;
  private readonly loop: ReadyLoop<ClientReady, RequestMessage, ClientEvent>;
  private readonly clock: Clock;
  private readonly inbox: ClientInput[] = [];
  private pumping = false;
  private stopped = false;
  private cancelTimer: (() => void) | null = null;

  constructor(private readonly o: BftClientHostOptions) {
    this.clock = o.clock ?? systemClock;
    this.engine = new BftClient(o.config, o.lastTimestamp);
    const engine = this.engine;
    this.loop = new ReadyLoop<ClientReady, RequestMessage, ClientEvent>(
      { hasReady: () => engine.hasReady(), ready: () => engine.ready(), advance: () => engine.advance() },
      {
        persist: (rd, done, failed) => (rd.timestamp === null ? done() : o.writeTimestamp(rd.timestamp, done, failed)),
        send: (m) => o.send(m),
        items: (rd) => rd.events,
        apply: (e) => o.onEvent(e),
        applied: (rd) => {
          for (const c of rd.cryptoRequests) {
            performBftCrypto(o.crypto, c, (result) => {
              if (this.stopped) return;
              this.inbox.push({ local: 'crypto-result', result });
              this.pump();
            });
          }
        },
        afterAdvance: (_rd, next) => next(),
        fail: (error) => this.failed(error),
      },
    );
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.loop.stop();
    this.cancelTimer?.();
  }

  /** Submit an operation; the timestamp it runs under, or null when refused (queue full). */
  submit(op: Uint8Array, readOnly: boolean): number | null {
    if (this.stopped) return null;
    const r = this.engine.step({ local: 'submit', op, readOnly });
    this.pump();
    return r.ok && r.value.kind === 'submitted' ? r.value.timestamp : null;
  }

  /** A replica's reply (link-authenticated: `from` is the replica). */
  receive(m: ReplyMessage): void {
    if (this.stopped) return;
    this.engine.step(m);
    this.pump();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancelTimer = this.clock.after(this.o.tickMs, () => {
      if (this.stopped) return;
      this.engine.tick();
      this.pump();
      this.schedule();
    });
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.stopped) return;
        this.loop.pump();
        const input = this.inbox.shift();
        if (input === undefined) return;
        const r = this.engine.step(input);
        if (!r.ok) throw r.error;
      }
    } catch (error) {
      this.failed(error);
    } finally {
      this.pumping = false;
    }
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.o.fail(error);
  }
}
