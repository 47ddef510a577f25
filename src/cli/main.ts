/**
 * The `peerquorum` command line's entry (bin/peerquorum.mjs loads it): parse, run, exit.
 *
 * A person typed what reaches here, so nothing leaves as a stack trace: a usage mistake, an
 * unreachable cluster, a refused secret or a node that cannot start is ONE line on stderr
 * (`peerquorum: ...`) and an exit code (help.ts lists them); a bug of ours says so in one line
 * too, with PEERQUORUM_DEBUG=1 to see the stack.
 */
import { parseArgs, UsageError } from './args.ts';
import { CliError, exitCodes } from './cli-error.ts';
import { runPropose, runRead, runStatus } from './client-commands.ts';
import { helpText } from './help.ts';
import { runNode } from './node-command.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  try {
    const cmd = parseArgs(argv);
    switch (cmd.kind) {
      case 'help':
        print(helpText.trimEnd());
        return exitCodes.ok;
      case 'node':
        return await runNode(cmd, log);
      case 'propose':
        return await runPropose(cmd, print);
      case 'read':
        return await runRead(cmd, print);
      case 'status':
        return await runStatus(cmd, print);
      default: {
        const never: never = cmd;
        throw new Error(`unhandled command ${JSON.stringify(never)}`);
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      log(`peerquorum: ${e.message} (see peerquorum --help)`);
      return exitCodes.usage;
    }
    if (e instanceof CliError) {
      log(`peerquorum: ${e.message}`);
      return e.exitCode;
    }
    const text = e instanceof Error ? e.message : String(e);
    log(`peerquorum: internal error: ${text.split('\n')[0] ?? ''}`);
    if (process.env['PEERQUORUM_DEBUG'] === '1') console.error(e);
    return exitCodes.node;
  }
}

/** Run as the process: exit with the command's code (a node's open sockets would keep it alive). */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
