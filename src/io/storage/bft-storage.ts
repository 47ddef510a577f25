/**
 * Where a BFT node keeps what its replica and its client must not forget (src/core/bft/ready.ts
 * `BftPersist`, client-types.ts `ClientReady.timestamp`): an interface of four methods and two
 * adapters, memory here and IndexedDB (indexeddb-bft-storage.ts). Both fold writes the one way
 * src/runtime/bft-durable.ts does (the view only up; a stable checkpoint only WITH its state),
 * so a node boots from the same thing whichever holds it.
 */
import { BftDurable, type BftWrite } from '../../runtime/bft-durable.ts';

export interface BftBootRecord {
  /** The replica's durable state (boot it with `new BftHost({ durable })`). */
  readonly durable: BftDurable;
  /** The highest timestamp this node's client handed out (0: none). */
  readonly clientTimestamp: number;
}

export interface BftStorage {
  boot(): Promise<BftBootRecord>;
  /** Durable once resolved. Writes complete in call order. */
  write(write: BftWrite): Promise<void>;
  writeClientTimestamp(timestamp: number): Promise<void>;
  close(): Promise<void>;
}

/** Memory: lost with the node (tests, Node code, a node whose other storage is memory). */
export class MemoryBftStorage implements BftStorage {
  private readonly durable = new BftDurable();
  private clientTimestamp = 0;

  boot(): Promise<BftBootRecord> {
    return Promise.resolve({ durable: this.durable.clone(), clientTimestamp: this.clientTimestamp });
  }

  write(write: BftWrite): Promise<void> {
    this.durable.apply(write);
    return Promise.resolve();
  }

  writeClientTimestamp(timestamp: number): Promise<void> {
    this.clientTimestamp = Math.max(this.clientTimestamp, timestamp);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
