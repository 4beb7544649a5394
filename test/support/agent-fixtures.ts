/** Agents with a mock hypervisor, started in-process for a test and stopped in `finally`. */
import type { ProviderKey } from '../../proto/bus/subjects.ts';
import { startAgent, type Agent, type AgentOptions } from '../../provider-agents/core/agent.ts';
import { MockDriver, type MockDriverOptions } from '../../provider-agents/mock/driver.ts';
import type { Bus } from './agent-bus.ts';

export interface MockAgent {
  agent: Agent;
  driver: MockDriver;
  stop(): Promise<void>;
}

let n = 0;

export async function startMockAgent(
  bus: Bus,
  provider: ProviderKey,
  opts: { mock?: Partial<MockDriverOptions>; agent?: Partial<AgentOptions> } = {},
): Promise<MockAgent> {
  const agentId = opts.agent?.agentId ?? `test-agent-${process.pid}-${++n}`;
  const driver = await MockDriver.open({ natsServers: bus.nats.url, provider, actor: agentId, ...opts.mock });
  try {
    const agent = await startAgent({
      natsServers: bus.nats.url, provider, driver, agentId, heartbeatIntervalMs: 1000, shutdownGraceMs: 5000, ...opts.agent,
    });
    return {
      agent,
      driver,
      stop: async () => {
        await agent.stop();
        await driver.close();
      },
    };
  } catch (err) {
    await driver.close();
    throw err;
  }
}

/** Sum of a counter's or gauge's values whose labels include `labels` (not for histograms). */
export async function metricValue(agent: Agent, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = agent.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
