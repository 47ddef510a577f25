/**
 * The process file-crash.test.ts kills with SIGKILL: it opens the file log in `argv[2]`, boots,
 * prints `READY`, then writes forever, up to `argv[4]` writes in flight at once (so that group
 * commit is exercised), generated from seed `argv[3]` over the state it booted, in segments of
 * `argv[5]` bytes, with entry data `argv[6]` times the model's size (large writes, so that a
 * kill can land inside one `write` system call). Each write is
 * printed as `W <json>` BEFORE it is issued and `A` once the storage said it is durable, never
 * before: stdout is a pipe, and writes to a pipe are synchronous in Node on Linux, so a line
 * printed is a line the parent gets even if the process dies the next instant.
 */
import { fileStorage } from '../../../src/io/storage/file-storage.ts';
import { applyDesc, modelOfBoot, nextWrite, prng, toWrite } from './file-crash-model.ts';

const [dir, seedArg, inFlightArg, segmentArg, scaleArg] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: file-crash-child.ts DIR SEED INFLIGHT SEGMENT_BYTES DATA_SCALE');
const scale = Number(scaleArg ?? 1);
const rand = prng(Number(seedArg));
const inFlightMax = Number(inFlightArg ?? 1);

const storage = await fileStorage({ dir, segmentBytesMax: Number(segmentArg ?? 16384) });
let head = modelOfBoot(await storage.boot());
process.stdout.write('READY\n');

let inFlight = 0;
let wake: (() => void) | null = null;
for (;;) {
  while (inFlight >= inFlightMax) await new Promise<void>((r) => (wake = r));
  const desc = nextWrite(head, rand);
  head = applyDesc(head, desc);
  process.stdout.write(`W ${JSON.stringify(desc)}\n`);
  inFlight++;
  // Writes resolve in issue order (storage.ts), so the parent matches each A to the oldest W.
  storage.write(toWrite(desc, scale)).then(
    () => {
      process.stdout.write('A\n');
      inFlight--;
      wake?.();
    },
    (e: unknown) => {
      process.stderr.write(`write failed: ${String(e)}\n`);
      process.exit(1);
    },
  );
  if (inFlight < inFlightMax) await new Promise<void>((r) => setImmediate(r));
}
