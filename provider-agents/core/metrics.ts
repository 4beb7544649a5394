/**
 * Prometheus metrics of one agent, in a registry of its own (tests run several agents in one
 * process). Served by metrics-server.ts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Outcome } from './ack-policy.ts';

export interface AgentMetrics {
  registry: Registry;
  /** One command finished (or was handed back) with this outcome after `seconds`. */
  observeCommand(op: string, outcome: Outcome, seconds: number): void;
  /** A message rejected as malformed, of unknown op, or invalid. */
  observeRejected(reason: 'malformed' | 'unknown_op' | 'invalid'): void;
  setInFlight(n: number): void;
  /** A status event published (or failed to publish). */
  observeEvent(result: 'published' | 'failed'): void;
  /** A command found its VM's lease held (by another agent or another command) and waited. */
  observeLeaseWait(): void;
}

export interface AgentMetricsOptions {
  /** Also collect process metrics (CPU, memory, event-loop lag): on in the real process. */
  processMetrics?: boolean;
  /** Constant labels on every series (provider namespace/name). */
  labels?: Record<string, string>;
}

/** Duration buckets in seconds: instant mock commands up to long hypervisor tasks. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createAgentMetrics(opts: AgentMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  const commands = new Counter({
    name: 'virtrigaud_agent_commands_total',
    help: 'Commands handled, by operation and outcome (success, stale, retry, busy, exhausted, handed_back, failed, rejected)',
    labelNames: ['op', 'outcome'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'virtrigaud_agent_command_duration_seconds',
    help: 'Time from taking a command to acknowledging it, by operation and outcome',
    labelNames: ['op', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'virtrigaud_agent_rejected_messages_total',
    help: 'Messages terminated and recorded on the dead-letter subject, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'virtrigaud_agent_in_flight',
    help: 'Commands being worked on now',
    registers: [registry],
  });
  const events = new Counter({
    name: 'virtrigaud_agent_status_events_total',
    help: 'Status events published, by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const leaseWaits = new Counter({
    name: 'virtrigaud_agent_lease_waits_total',
    help: 'Commands that found their VM busy (lease held elsewhere) and waited for it',
    registers: [registry],
  });
  // Every reason starts at zero, so "no rejections" is a series, not an absence.
  for (const reason of ['malformed', 'unknown_op', 'invalid']) rejected.inc({ reason }, 0);
  return {
    registry,
    observeCommand(op, outcome, seconds) {
      commands.inc({ op, outcome });
      durations.observe({ op, outcome }, seconds);
    },
    observeRejected(reason) {
      rejected.inc({ reason });
    },
    setInFlight(n) {
      inFlight.set(n);
    },
    observeEvent(result) {
      events.inc({ result });
    },
    observeLeaseWait() {
      leaseWaits.inc();
    },
  };
}
