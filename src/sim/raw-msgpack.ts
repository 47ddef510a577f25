/**
 * A msgpack writer for hostile bytes (hostile-frames.ts): it writes what an honest encoder never
 * would, so that the receive path meets it: extension types, lengths that lie about what
 * follows, duplicate and prototype-polluting keys, NaN and infinities, integers beyond 2^53,
 * nesting as deep as asked. Values are written from a small tree (`Raw`), in order, exactly.
 */

export type Raw =
  | { readonly t: 'nil' }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'int'; readonly v: number }
  /** A uint64 or int64 given as a bigint (any 64-bit value, unsafe ones included). */
  | { readonly t: 'big'; readonly v: bigint }
  | { readonly t: 'float'; readonly v: number }
  | { readonly t: 'str'; readonly v: string; readonly declared?: number }
  | { readonly t: 'bin'; readonly v: Uint8Array; readonly declared?: number }
  | { readonly t: 'array'; readonly v: readonly Raw[]; readonly declared?: number }
  /** Entries in order, duplicates allowed. */
  | { readonly t: 'map'; readonly v: readonly (readonly [Raw, Raw])[]; readonly declared?: number }
  | { readonly t: 'ext'; readonly type: number; readonly v: Uint8Array };

export const raw = {
  nil: { t: 'nil' } as Raw,
  bool: (v: boolean): Raw => ({ t: 'bool', v }),
  int: (v: number): Raw => ({ t: 'int', v }),
  big: (v: bigint): Raw => ({ t: 'big', v }),
  float: (v: number): Raw => ({ t: 'float', v }),
  str: (v: string, declared?: number): Raw => (declared === undefined ? { t: 'str', v } : { t: 'str', v, declared }),
  bin: (v: Uint8Array, declared?: number): Raw => (declared === undefined ? { t: 'bin', v } : { t: 'bin', v, declared }),
  array: (v: readonly Raw[], declared?: number): Raw => (declared === undefined ? { t: 'array', v } : { t: 'array', v, declared }),
  map: (v: readonly (readonly [Raw, Raw])[], declared?: number): Raw => (declared === undefined ? { t: 'map', v } : { t: 'map', v, declared }),
  ext: (type: number, v: Uint8Array): Raw => ({ t: 'ext', type, v }),
};

/** Plain data (what a message looks like) as a Raw tree: objects become maps in key order. */
export function fromValue(value: unknown): Raw {
  if (value === null || value === undefined) return raw.nil;
  if (typeof value === 'boolean') return raw.bool(value);
  if (typeof value === 'number') return Number.isInteger(value) ? raw.int(value) : raw.float(value);
  if (typeof value === 'string') return raw.str(value);
  if (value instanceof Uint8Array) return raw.bin(value);
  if (Array.isArray(value)) return raw.array(value.map(fromValue));
  return raw.map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [raw.str(k), fromValue(v)] as const));
}

export class RawWriter {
  private buf = new Uint8Array(256);
  private length = 0;

  write(r: Raw): this {
    switch (r.t) {
      case 'nil':
        return this.u8(0xc0);
      case 'bool':
        return this.u8(r.v ? 0xc3 : 0xc2);
      case 'int':
        return this.int(r.v);
      case 'big':
        return r.v < 0n ? this.u8(0xd3).u64(BigInt.asUintN(64, r.v)) : this.u8(0xcf).u64(BigInt.asUintN(64, r.v));
      case 'float': {
        this.u8(0xcb).reserve(8);
        new DataView(this.buf.buffer).setFloat64(this.length, r.v);
        this.length += 8;
        return this;
      }
      case 'str': {
        const bytes = new TextEncoder().encode(r.v);
        const n = r.declared ?? bytes.length;
        if (n < 32 && r.declared === undefined) this.u8(0xa0 | n);
        else if (n < 0x100) this.u8(0xd9).u8(n);
        else if (n < 0x1_0000) this.u8(0xda).u16(n);
        else this.u8(0xdb).u32(n);
        return this.bytes(bytes);
      }
      case 'bin': {
        const n = r.declared ?? r.v.length;
        if (n < 0x100) this.u8(0xc4).u8(n);
        else if (n < 0x1_0000) this.u8(0xc5).u16(n);
        else this.u8(0xc6).u32(n);
        return this.bytes(r.v);
      }
      case 'array': {
        const n = r.declared ?? r.v.length;
        if (n < 16 && r.declared === undefined) this.u8(0x90 | n);
        else if (n < 0x1_0000) this.u8(0xdc).u16(n);
        else this.u8(0xdd).u32(n);
        for (const x of r.v) this.write(x);
        return this;
      }
      case 'map': {
        const n = r.declared ?? r.v.length;
        if (n < 16 && r.declared === undefined) this.u8(0x80 | n);
        else if (n < 0x1_0000) this.u8(0xde).u16(n);
        else this.u8(0xdf).u32(n);
        for (const [k, v] of r.v) this.write(k).write(v);
        return this;
      }
      case 'ext': {
        const n = r.v.length;
        if (n === 1) this.u8(0xd4);
        else if (n === 2) this.u8(0xd5);
        else if (n === 4) this.u8(0xd6);
        else if (n === 8) this.u8(0xd7);
        else if (n === 16) this.u8(0xd8);
        else if (n < 0x100) this.u8(0xc7).u8(n);
        else this.u8(0xc8).u16(n);
        return this.u8(r.type & 0xff).bytes(r.v);
      }
      default: {
        const never: never = r;
        return never;
      }
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  private int(v: number): this {
    if (v >= 0) {
      if (v < 0x80) return this.u8(v);
      if (v < 0x100) return this.u8(0xcc).u8(v);
      if (v < 0x1_0000) return this.u8(0xcd).u16(v);
      if (v < 0x1_0000_0000) return this.u8(0xce).u32(v);
      return this.u8(0xcf).u64(BigInt(v));
    }
    if (v >= -32) return this.u8(v & 0xff);
    if (v >= -0x80) return this.u8(0xd0).u8(v & 0xff);
    if (v >= -0x8000) return this.u8(0xd1).u16(v & 0xffff);
    if (v >= -0x8000_0000) return this.u8(0xd2).u32(v >>> 0);
    return this.u8(0xd3).u64(BigInt.asUintN(64, BigInt(v)));
  }

  private reserve(n: number): this {
    if (this.length + n <= this.buf.length) return this;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    return this;
  }

  private u8(v: number): this {
    this.reserve(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  private u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }

  private u32(v: number): this {
    return this.u8(v >>> 24).u8(v >>> 16).u8(v >>> 8).u8(v);
  }

  private u64(v: bigint): this {
    return this.u32(Number((v >> 32n) & 0xffff_ffffn)).u32(Number(v & 0xffff_ffffn));
  }

  private bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
}

export function encodeRaw(r: Raw): Uint8Array {
  return new RawWriter().write(r).finish();
}
