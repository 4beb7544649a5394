/**
 * The spine of the local stack as real processes: nats-server (JetStream), the dispatcher, and N
 * replicas of an agent, each started like in production (`dispatcher/main.ts`,
 * `provider-agents/main.ts agent <type>`) with its configuration in the environment.
 */
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.ts';
import { startNats, type NatsServer } from './nats.ts';
import { startProcess, type ManagedProcess } from './processes.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface SpineOptions {
  cp: Pick<ControlPlane, 'dir' | 'kubeconfig'>;
  /** The Provider the agents serve. */
  provider: { namespace: string; name: string; type: string };
  agents: number;
  detached?: boolean;
  /** Extra agent environment (e.g. MOCK_DELAY_MS). */
  agentEnv?: NodeJS.ProcessEnv;
}

export interface Spine {
  nats: NatsServer;
  dispatcher: ManagedProcess;
  agents: ManagedProcess[];
  stop(): Promise<void>;
}

/** Runs a TypeScript entry point with this Node and the tsx loader, as a child process. */
function tsProcess(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv, logDir: string, detached?: boolean): ManagedProcess {
  return startProcess({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, entry), ...args],
    logFile: join(logDir, `${name}.log`),
    detached,
    env: { ...process.env, ...env },
  });
}

export interface AgentFleetOptions {
  natsUrl: string;
  provider: { namespace: string; name: string; type: string };
  replicas: number;
  logDir: string;
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Distinguishes fleets started one after another (process and log names). */
  label?: string;
}

/** N replicas of an agent process for one Provider. */
export function startAgentFleet(opts: AgentFleetOptions): ManagedProcess[] {
  const prefix = `agent-${opts.provider.type}${opts.label ? `-${opts.label}` : ''}`;
  return Array.from({ length: opts.replicas }, (_, i) =>
    tsProcess(`${prefix}-${i}`, 'provider-agents/main.ts', ['agent', opts.provider.type], {
      NATS_URL: opts.natsUrl,
      AGENT_PROVIDER_NAMESPACE: opts.provider.namespace,
      AGENT_PROVIDER_NAME: opts.provider.name,
      AGENT_ID: `${prefix}-${i}`,
      AGENT_METRICS_PORT: '0',
      ...opts.env,
    }, opts.logDir, opts.detached));
}

/** The dispatcher process, watching the control plane and publishing on the bus. */
/**
 * The dispatcher's node flags, as its Deployment sets them (manifests/dispatcher/deployment.yaml,
 * NODE_OPTIONS): a young generation of at most 2 × 4 MiB instead of 2 × 16 MiB, which with
 * 10,000 VMs cached held RSS at ~125 MiB instead of ~146 (bench/spine.ts).
 */
export const DISPATCHER_NODE_OPTIONS = '--max-semi-space-size=4';

export function startDispatcherProcess(
  kubeconfig: string, natsUrl: string, logDir: string, detached?: boolean, env: NodeJS.ProcessEnv = {},
  /** Runs `node <bundle> dispatcher` (the image's esbuild bundle of cli/virtrigaud.ts) instead of the sources under tsx. */
  bundle?: string,
): ManagedProcess {
  const vars: NodeJS.ProcessEnv = {
    NATS_URL: natsUrl,
    KUBECONFIG: kubeconfig,
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    // The local agents are processes, not Deployments (no kubelet here): the Provider controller
    // only writes status, from their heartbeats.
    PROVIDER_MANAGE_AGENTS: 'false',
    ...env,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, DISPATCHER_NODE_OPTIONS, env.NODE_OPTIONS].filter(Boolean).join(' '),
  };
  if (!bundle) return tsProcess('dispatcher', 'dispatcher/main.ts', [], vars, logDir, detached);
  return startProcess({
    name: 'dispatcher', command: process.execPath, args: [bundle, 'dispatcher'], logFile: join(logDir, 'dispatcher.log'), detached,
    env: { ...process.env, ...vars },
  });
}

export async function startSpine(opts: SpineOptions): Promise<Spine> {
  const logs = join(opts.cp.dir, 'logs');
  const nats = await startNats({ dir: join(opts.cp.dir, 'nats'), detached: opts.detached });
  const dispatcher = startDispatcherProcess(opts.cp.kubeconfig, nats.url, logs, opts.detached);
  const agents = startAgentFleet({ natsUrl: nats.url, provider: opts.provider, replicas: opts.agents, logDir: logs, detached: opts.detached, env: opts.agentEnv });
  return {
    nats,
    dispatcher,
    agents,
    stop: async () => {
      await Promise.all(agents.map((a) => a.stop()));
      await dispatcher.stop();
      await nats.stop();
    },
  };
}
