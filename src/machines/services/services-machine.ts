/**
 * The standard machine of a peerquorum node with coordination services: the key-value machine,
 * the board and the four services (tools, agents, config, locks) as parts of ONE composite
 * machine on one log (./composite.ts). Options per service; configuration validators are
 * registered here, at construction, so that every replica runs the same ones.
 */
import { CompositeMachine } from './composite.ts';
import { AgentsPart, type AgentsOptions } from './agents.ts';
import { ConfigPart, type ConfigOptions } from './config.ts';
import { BoardPart, KvPart } from './legacy-parts.ts';
import { LocksPart, type LocksOptions } from './locks.ts';
import { ToolsPart, type ToolsOptions } from './tools.ts';

/** The service tags of the standard machine. */
export const services = { kv: 'kv', board: 'board', tools: 'tools', agents: 'agents', config: 'config', locks: 'locks' } as const;
export type ServiceName = (typeof services)[keyof typeof services];

export interface ServicesOptions {
  readonly tools?: Partial<ToolsOptions>;
  readonly agents?: Partial<AgentsOptions>;
  readonly config?: Partial<ConfigOptions>;
  readonly locks?: Partial<LocksOptions>;
}

export interface ServicesMachine {
  readonly machine: CompositeMachine;
  readonly kv: KvPart;
  readonly board: BoardPart;
  readonly tools: ToolsPart;
  readonly agents: AgentsPart;
  readonly config: ConfigPart;
  readonly locks: LocksPart;
}

export function createServicesMachine(options: ServicesOptions = {}): ServicesMachine {
  const parts = {
    kv: new KvPart(),
    board: new BoardPart(),
    tools: new ToolsPart(options.tools),
    agents: new AgentsPart(options.agents),
    config: new ConfigPart(options.config),
    locks: new LocksPart(options.locks),
  };
  return { machine: new CompositeMachine(parts), ...parts };
}
