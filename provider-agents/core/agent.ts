/**
 * The agent runtime every hypervisor agent shares. `startAgent` connects to NATS, makes sure the
 * streams and the provider's durable consumer exist, and then:
 *   - pulls commands only when it has a free slot (bounded concurrency, nothing waits unacked in a
 *     local buffer), `for await` over each pull;
 *   - per command: decode (invalid → term + dead-letter record), take the VM's lease (held elsewhere
 *     → nak shortly), keep the message alive with in-progress acks, run the handler with the
 *     driver, publish the status event, ack (double-acked) and only then release the lease;
 *   - heartbeats, Prometheus metrics, structured logs naming the VM and the command;
 *   - `stop()`: stop pulling, let in-flight commands finish within the grace period, hand the rest
 *     back (nak) for another replica, release leases, drain the connection.
 */
import { jetstream, jetstreamManager, type ConsumerConfig, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { setTimeout as sleepRef } from 'node:timers/promises';
import { COMMAND_MAX_DELIVER, COMMAND_STREAM, agentConsumerName, ensureStreamsExist } from '../../proto/bus/topology.ts';
import { ensureAgentConsumer } from './consumer.ts';
import type { Driver } from './driver.ts';
import { ShutdownError } from './errors.ts';
import { startWatchPublisher } from './watch-publisher.ts';
import { createEventPublisher } from './event-publisher.ts';
import { startHeartbeats, type Heartbeats } from './heartbeat.ts';
import { LEASE_WAIT_MS, LeaseManager } from './lease.ts';
import { silentLogger, type Logger } from './log.ts';
import { createAgentMetrics, type AgentMetrics } from './metrics.ts';
import { natsConnectOptions, type NatsAuth } from './nats-auth.ts';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';
import { processMessage } from './process-command.ts';
import { AGENT_VERSION } from './version.ts';
import { ackDeadlineMs, workingIntervalMs } from './working.ts';

export interface AgentOptions {
  /** NATS server URL(s). */
  natsServers: string | string[];
  /** Credentials and inbox prefix on a secured bus (nats-auth.ts); none on the local stack. */
  natsAuth?: NatsAuth;
  /** The Provider object served; `type` defaults to the driver's. */
  provider: { namespace: string; name: string; type?: string };
  driver: Driver;
  /** Lease holder name; default `agent-<pid>-<random>`. Must be unique among live agents. */
  agentId?: string;
  /** Commands worked on at once (default 8). */
  concurrency?: number;
  /** TTL of the VM lease bucket when this agent creates it (default the topology's). */
  leaseTtlS?: number;
  heartbeatIntervalMs?: number;
  /** How long stop() lets in-flight commands finish before handing them back (default 25 s). */
  shutdownGraceMs?: number;
  /** Serve /metrics, /healthz, /readyz on this port (0: a free one). Unset: no HTTP server. */
  metricsPort?: number;
  metricsHost?: string;
  /** Also collect process metrics (the real process does; tests with several agents do not). */
  processMetrics?: boolean;
  log?: Logger;
  version?: string;
  /** Minimum spacing of progress events of one command (default 2 s). */
  progressIntervalMs?: number;
  /** How long a command waits for a VM another command works on before it is nak'd (default 2 s). */
  leaseWaitMs?: number;
}

export interface Agent {
  readonly agentId: string;
  readonly metrics: AgentMetrics;
  /** http://host:port of the metrics server, when one runs. */
  readonly metricsUrl: string | undefined;
  /** Commands being worked on now. */
  inFlight(): number;
  /** Connected and consuming. */
  ready(): boolean;
  /** Graceful shutdown (idempotent). */
  stop(): Promise<void>;
}

/** Long-poll of one pull request; a reconnect cuts it short. */
const FETCH_EXPIRES_MS = 10_000;
const HARD_STOP_MS = 5_000;

/** A wait that never keeps the process alive by itself. */
const sleep = (ms: number) => sleepRef(ms, undefined, { ref: false });

interface InFlight {
  msg: JsMsg;
  done: Promise<void>;
  settled: boolean;
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const driver = opts.driver;
  const provider = { namespace: opts.provider.namespace, name: opts.provider.name, type: opts.provider.type ?? driver.type };
  const key = { namespace: provider.namespace, name: provider.name };
  const agentId = opts.agentId ?? `agent-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const baseLog = (opts.log ?? silentLogger).child({ agentId, provider: `${provider.namespace}/${provider.name}` });
  const metrics = createAgentMetrics({ processMetrics: opts.processMetrics, labels: { provider_namespace: provider.namespace, provider: provider.name } });

  // 1. Connect: keep reconnecting for ever; a restarting server must not end the agent.
  const nc: NatsConnection = await connect({
    servers: opts.natsServers,
    name: `virtrigaud-agent ${agentId}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // No stack captured per request (measurable on every KV call, publish and ack); timeouts
    // still name what timed out.
    noAsyncTraces: true,
    ...natsConnectOptions(opts.natsAuth),
  });
  let metricsServer: MetricsServer | undefined;
  try {
    // 2. Topology: streams (created when missing; the dispatcher owns their config), the shared
    //    consumer, the lease bucket.
    const jsm = await jetstreamManager(nc);
    await ensureStreamsExist(jsm);
    const consumerConfig: ConsumerConfig = await ensureAgentConsumer(jsm, key);
    const js = jetstream(nc);
    const consumer = await js.consumers.get(COMMAND_STREAM, agentConsumerName(key));
    const leases = await LeaseManager.open(nc, { agentId, ttlS: opts.leaseTtlS, log: baseLog });
    const events = createEventPublisher({ js, provider, agentId, metrics });
    const maxDeliver = consumerConfig.max_deliver ?? COMMAND_MAX_DELIVER;

    // 3. State of the loop.
    const inFlight = new Map<number, InFlight>();
    const shutdown = new AbortController();
    let stopping = false;
    let currentBatch: ConsumerMessages | undefined;
    let slotFreed: (() => void) | undefined;
    let nextId = 0;
    const setInFlight = () => metrics.setInFlight(inFlight.size);

    const heartbeats: Heartbeats = startHeartbeats({
      nc, provider, agentId, version: opts.version ?? AGENT_VERSION, driver,
      inFlight: () => inFlight.size, intervalMs: opts.heartbeatIntervalMs, log: baseLog,
    });
    const stopWatching = startWatchPublisher({ driver, js, provider: { ...key, type: provider.type }, agentId, metrics, log: baseLog });
    if (opts.metricsPort !== undefined) {
      metricsServer = await startMetricsServer({
        registry: metrics.registry, port: opts.metricsPort, host: opts.metricsHost ?? '0.0.0.0',
        ready: () => !stopping && !nc.isClosed() && !nc.isDraining(),
      });
    }

    // A reconnect cuts the pending pull short, so the loop asks again at once.
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'reconnect') {
          baseLog.info('reconnected to NATS', { server: s.server });
          currentBatch?.stop();
        } else if (s.type === 'disconnect') {
          baseLog.warn('disconnected from NATS', { server: s.server });
        }
      }
    })().catch(() => undefined);

    const handle = (msg: JsMsg): Promise<void> =>
      processMessage(msg, {
        driver, key, agentId, leases, events, metrics, js, shutdown: shutdown.signal, baseLog,
        delivery: { deliveryCount: msg.info.deliveryCount, maxDeliver },
        workingMs: workingIntervalMs(ackDeadlineMs(consumerConfig, msg.info.deliveryCount)),
        progressIntervalMs: opts.progressIntervalMs ?? 2000,
        leaseWaitMs: opts.leaseWaitMs ?? LEASE_WAIT_MS,
      });

    const start = (msg: JsMsg) => {
      const id = nextId++;
      const entry: InFlight = { msg, settled: false, done: Promise.resolve() };
      entry.done = handle(msg)
        .catch((err: unknown) => baseLog.error('command handling failed unexpectedly', { err }))
        .finally(() => {
          entry.settled = true;
          inFlight.delete(id);
          setInFlight();
          slotFreed?.();
        });
      inFlight.set(id, entry);
      setInFlight();
    };

    const waitForSlot = async () => {
      while (!stopping && inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = undefined;
      }
    };

    // 4. The loop: pull as many commands as there are free slots, never more.
    const loop = (async () => {
      let failures = 0;
      while (!stopping) {
        await waitForSlot();
        if (stopping) break;
        try {
          const batch = await consumer.fetch({ max_messages: concurrency - inFlight.size, expires: FETCH_EXPIRES_MS });
          currentBatch = batch;
          if (stopping) batch.stop();
          for await (const msg of batch) {
            if (stopping) {
              msg.nak(0); // pulled while stopping: hand it straight back
              continue;
            }
            start(msg);
          }
          failures = 0;
        } catch (err) {
          if (stopping || nc.isClosed()) break;
          failures++;
          baseLog.warn('pulling commands failed; retrying', { err, failures });
          await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
        } finally {
          currentBatch = undefined;
        }
      }
    })();
    baseLog.info('agent started', { concurrency, consumer: agentConsumerName(key), leaseTtlMs: leases.ttlMs });

    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= (async () => {
      // 1. Stop pulling.
      stopping = true;
      currentBatch?.stop();
      slotFreed?.();
      heartbeats.stop();
      stopWatching();
      // 2. Let in-flight commands finish within the grace period.
      const all = () => Promise.all([...inFlight.values()].map((f) => f.done));
      const grace = opts.shutdownGraceMs ?? 25_000;
      if (inFlight.size) {
        baseLog.info('waiting for in-flight commands', { inFlight: inFlight.size, graceMs: grace });
        await Promise.race([all(), sleep(grace)]);
      }
      // 3. Hand the rest back: their operations stop at the next safe point and nak themselves.
      if (inFlight.size) {
        baseLog.warn('handing in-flight commands back', { inFlight: inFlight.size });
        shutdown.abort(new ShutdownError());
        await Promise.race([all(), sleep(HARD_STOP_MS)]);
        // A driver that ignores the signal: nak for it so the command is redelivered at once.
        for (const f of inFlight.values()) if (!f.settled) f.msg.nak(0);
      }
      await Promise.race([loop, sleep(HARD_STOP_MS)]);
      // 4. Drain (flushes acks and naks) and close.
      try {
        await nc.drain();
      } catch {
        await nc.close().catch(() => undefined);
      }
      await metricsServer?.close();
      baseLog.info('agent stopped', {});
    })());

    return {
      agentId,
      metrics,
      metricsUrl: metricsServer?.url,
      inFlight: () => inFlight.size,
      ready: () => !stopping && !nc.isClosed(),
      stop,
    };
  } catch (err) {
    await metricsServer?.close();
    await nc.close().catch(() => undefined);
    throw err;
  }
}
