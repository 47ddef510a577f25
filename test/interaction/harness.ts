/**
 * A datadriven harness for the Raft core, in the style of etcd-raft's interaction tests: an
 * in-memory cluster of `RaftNode`s driven by a text script, one command a line, whose output is
 * a transcript compared with a golden file (`interaction.test.ts`). This module reads the script
 * and dispatches each line; the cluster is harness-cluster.ts, the commands harness-commands.ts,
 * their arguments harness-options.ts and the printing harness-format.ts.
 *
 * The harness is the driver the `Ready` contract talks about, and nothing more:
 *
 * - Time is `tick`; randomness is one seeded PRNG per node incarnation, so a run is exact.
 * - The network is manual: a FIFO queue of messages per destination, and nothing is delivered
 *   until a command says so (`deliver`, `stabilize`). A partition or a crashed destination
 *   drops a message when it is sent; `drop` removes queued ones.
 * - Storage is a `{ hardState, entries, snapshot }` record per node. A Ready is handled by THE
 *   Ready processor production uses (src/runtime/ready-loop.ts), whose writes are durable at
 *   once here: what is already durable is applied and what may leave before the write is sent
 *   (a leader's appends), then the write, the rest of the sends, the rest of the applies, then
 *   `advance()`. `crash` forgets the
 *   node's memory (its unprocessed state and queued inbound messages); `restart` boots a new
 *   `RaftNode` from storage alone.
 * - Each node has a state machine: the list of the commands it applied. Its snapshot is that
 *   list as text, one command per line. A snapshot installed from the leader (`Ready.snapshot`)
 *   replaces the stored log and the state machine; `compact` (or `shouldSnapshot()` after a
 *   Ready, with `snapshotevery=N`) stores the node's own snapshot and drops the stored entries
 *   the core says it may (`compactTo`); `restart` boots from the stored snapshot and the entries
 *   after it, with the state machine restored from the snapshot.
 * - Every run checks safety as it goes and aborts the script when it breaks: at most one leader
 *   per term; every node applies the same entry at each index; a snapshot a node restores holds
 *   exactly the commands applied up to its index; and a read is never answered
 *   below the highest commit index any node had when it was asked (lease reads only while every
 *   clock has run alike: `tick ID` lets one node's clock run apart, beyond any drift bound).
 *
 * Output is deterministic: nodes and queues are visited in numeric id order.
 *
 * Script syntax: one command a line; `#` lines are comments (copied to the transcript); blank
 * lines are skipped. Each command is echoed, then `----`, then its output (or `ok`).
 *
 *   add-nodes N [election=10 heartbeat=1 prevote=true checkquorum=true inflight=64
 *                maxentries=1024 maxbytes=N maxuncommitted=N drift=2 forward=true seed=1
 *                learners=ID,ID chunk=N maxsnapshot=N snapshotevery=N snapshotbytes=N
 *                trailing=N promoteafter=N promotelag=N removeafter=N minvoters=N]
 *                            a fresh cluster "1".."N" (replaces any previous one); the nodes
 *                            in `learners` are bootstrap learners, the others voters
 *   add-node ID [OPTIONS]    a new node that joins with an empty configuration (`voters: []`)
 *                            and the cluster's options, overridden by those given
 *   add-learner LEADER ID    propose a membership change on LEADER (`proposeConfChange`)
 *   request-join ID PEER..   ID (not a member) asks PEERs to add it as a learner (`requestJoin`)
 *   promote LEADER ID
 *   remove LEADER ID
 *   compact ID [INDEX]       snapshot the node's state machine at INDEX (default: applied) and
 *                            hand it to `compact`; storage keeps the snapshot, drops entries
 *                            (without INDEX, nothing happens when nothing new was applied)
 *   config [ID...]           the configuration in force on each node (voters, learners)
 *   state [ID...]            each state machine: applied index, commands, digest
 *   campaign ID              the node campaigns now (pre-vote first when enabled)
 *   tick ID [N]              tick one node N times (no Ready is handled)
 *   tick-all [N]             tick every live node N times (no Ready is handled)
 *   run N                    N rounds of: tick every live node once, then stabilize
 *   process [ID...]          handle the Readies of these nodes (default all): persist, send,
 *                            apply, advance; nothing is delivered
 *   deliver [ID...]          deliver the queued messages to these nodes (default all), each
 *                            printed; their Readies are not handled
 *   drop FROM->TO            discard queued messages; either side may be `*`
 *   stabilize [ID...]        handle Readies and deliver until nothing moves (only among the
 *                            given nodes when listed)
 *   partition A B | C D      cut the network into groups; unnamed nodes are alone
 *   isolate ID               shorthand for `partition ID | everyone else`
 *   heal                     reconnect everyone
 *   propose ID TEXT          propose TEXT on node ID
 *   propose-many ID N [PFX]  propose PFX1..PFXN (default prefix `x`)
 *   register ID              propose a client-session registration (dissertation §6.3)
 *   session ID C S TEXT      propose TEXT as client C's command number S (exactly-once)
 *   read-index ID REQ [lease]  ask node ID for a linearizable (or lease) read
 *   transfer-leader ID TO [urgent]  ask node ID to hand leadership to TO (urgent: ID is going
 *                            away, TimeoutNow follows the entries TO lacks without waiting)
 *   crash ID / restart ID    lose the node's memory / boot it from its storage
 *   status [ID...]           role, term, vote, leader, commit, applied, last index@term
 *   log ID                   the node's durable hard state and entries
 *   queued                   every message waiting for delivery
 *   counts / reset-counts    messages sent by type (rejections apart)
 *   hide TYPE... / show      stop / resume printing sends of some message types
 */
import { encodeSessionCommand } from '../../src/machines/sessions.ts';
import { Cluster } from './harness-cluster.ts';
import {
  addNode,
  addNodes,
  compactCommand,
  confChange,
  crash,
  drop,
  log,
  partition,
  printConfig,
  printCounts,
  printState,
  processReadies,
  propose,
  proposeBytes,
  proposeMany,
  queued,
  readIndex,
  restart,
  runTicks,
  status,
  tick,
  transfer,
} from './harness-commands.ts';
import { textEncoder } from './harness-format.ts';
import { arg, count, HarnessError } from './harness-options.ts';

export { HarnessError } from './harness-options.ts';

export function runScript(script: string): string {
  return new Interpreter().run(script);
}

class Interpreter {
  private readonly cluster = new Cluster();

  run(script: string): string {
    const transcript: string[] = [];
    const lines = script.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line === '') continue;
      if (line.startsWith('#')) {
        transcript.push(line);
        continue;
      }
      this.cluster.out = [];
      let aborted = false;
      try {
        this.execute(line);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        this.cluster.out.push(`ERROR ${error.name}: ${error.message}`, `script aborted at line ${i + 1}`);
        aborted = true;
      }
      transcript.push(line, '----', ...(this.cluster.out.length === 0 ? ['ok'] : this.cluster.out), '');
      if (aborted) break;
    }
    return transcript.join('\n');
  }

  private execute(line: string): void {
    const c = this.cluster;
    const [cmd, ...args] = line.split(/\s+/) as [string, ...string[]];
    switch (cmd) {
      case 'add-nodes':
        return addNodes(c, args);
      case 'add-node':
        return addNode(c, arg(args, 0), args.slice(1));
      case 'add-learner':
      case 'promote':
      case 'remove':
        return confChange(c, arg(args, 0), { type: cmd, node: arg(args, 1) });
      case 'compact':
        return compactCommand(c, arg(args, 0), args[1]);
      case 'config':
        return printConfig(c, args.length === 0 ? c.liveIds() : args);
      case 'state':
        return printState(c, args.length === 0 ? c.liveIds() : args);
      case 'campaign':
        return c.withChanges(() => c.live(arg(args, 0)).campaign());
      case 'tick':
        return tick(c, [arg(args, 0)], count(args[1]));
      case 'tick-all':
        return tick(c, c.liveIds(), count(args[0]));
      case 'run':
        return runTicks(c, count(args[0]));
      case 'process':
        return processReadies(c, args.length === 0 ? c.liveIds() : args);
      case 'deliver':
        c.deliver(args.length === 0 ? c.ids() : args, true);
        return;
      case 'drop':
        return drop(c, arg(args, 0));
      case 'stabilize':
        c.hiddenCount = new Map();
        c.stabilize(args.length === 0 ? null : new Set(args));
        return c.printHidden();
      case 'partition':
        return partition(c, args);
      case 'isolate':
        return partition(c, [arg(args, 0), '|', ...c.ids().filter((id) => id !== args[0])]);
      case 'heal':
        c.groups = null;
        c.out.push('network healed');
        return;
      case 'propose':
        return propose(c, arg(args, 0), args.slice(1).join(' '));
      case 'propose-many':
        return proposeMany(c, arg(args, 0), count(args[1]), args[2] ?? 'x');
      case 'register':
        return proposeBytes(c, arg(args, 0), encodeSessionCommand({ type: 'register' }));
      case 'session':
        return proposeBytes(
          c,
          arg(args, 0),
          encodeSessionCommand({ type: 'request', clientId: Number(arg(args, 1)), seq: Number(arg(args, 2)), payload: textEncoder.encode(args.slice(3).join(' ')) }),
        );
      case 'read-index':
        return readIndex(c, arg(args, 0), Number(arg(args, 1)), args[2] === 'lease');
      case 'transfer-leader':
        return transfer(c, arg(args, 0), arg(args, 1), args[2] === 'urgent');
      case 'request-join':
        return c.withChanges(() => {
          const sent = c.live(arg(args, 0)).requestJoin(args.slice(1));
          c.out.push(sent ? `join requested from ${args.slice(1).join(' ')}` : 'already a member: nothing sent');
        });
      case 'crash':
        return crash(c, arg(args, 0));
      case 'restart':
        return restart(c, arg(args, 0));
      case 'status':
        return status(c, args.length === 0 ? c.ids() : args);
      case 'log':
        return log(c, arg(args, 0));
      case 'queued':
        return queued(c);
      case 'counts':
        return printCounts(c);
      case 'reset-counts':
        c.counts = new Map();
        return;
      case 'hide':
        for (const t of args) c.hidden.add(t);
        c.out.push(`hiding ${[...c.hidden].sort().join(', ')}`);
        return;
      case 'show':
        c.hidden.clear();
        c.out.push('showing every message');
        return;
      default:
        throw new HarnessError(`unknown command ${cmd}`);
    }
  }
}
