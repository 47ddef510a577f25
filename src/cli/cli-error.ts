/**
 * The command line's failures: one class carrying its exit code (help.ts lists them), and the
 * reading of the secret file, whose every problem is one of them.
 */
import { readFile } from 'node:fs/promises';

export const exitCodes = {
  ok: 0,
  /** The cluster answered with an error (printed as JSON). */
  failed: 1,
  usage: 2,
  unreachable: 3,
  auth: 4,
  /** The node could not start, or failed while running. */
  node: 5,
} as const;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the link keys accept (link-keys.ts) and what a secret file may hold at most. */
const secretBytesMin = 16;
const secretFileBytesMax = 4096;

/** The cluster secret in `path`: its text without one trailing newline (an editor adds it). */
export async function readSecretFile(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'error';
    throw new CliError(exitCodes.usage, `--secret-file ${path}: cannot read it (${code})`);
  }
  if (bytes.byteLength > secretFileBytesMax) throw new CliError(exitCodes.usage, `--secret-file ${path}: larger than ${secretFileBytesMax} bytes; is it the right file?`);
  const text = bytes.toString('utf8').replace(/\r?\n$/, '');
  if (Buffer.byteLength(text) < secretBytesMin) throw new CliError(exitCodes.usage, `--secret-file ${path}: a secret is at least ${secretBytesMin} bytes`);
  return text;
}
