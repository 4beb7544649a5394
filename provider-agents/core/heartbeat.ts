/**
 * Heartbeats on vr.hb.<ns>.<provider> (core NATS, not stored): who is alive, what the hypervisor
 * supports, how busy the agent is, whether the hypervisor answers. The reachability probe
 * (driver.validate) runs at most once at a time and is bounded by the interval.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import type { NatsConnection } from '@nats-io/nats-core';
import { subjects } from '../../proto/bus/subjects.ts';
import { HeartbeatSchema, ProviderRefSchema } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Driver } from './driver.ts';
import type { Logger } from './log.ts';

export const HEARTBEAT_INTERVAL_MS = 5000;

export interface HeartbeatOptions {
  nc: NatsConnection;
  provider: { namespace: string; name: string; type: string };
  agentId: string;
  version: string;
  driver: Driver;
  inFlight: () => number;
  intervalMs?: number;
  log: Logger;
}

export interface Heartbeats {
  /** The last probe's answer. */
  reachable(): boolean;
  stop(): void;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e); });
  });
}

export function startHeartbeats(opts: HeartbeatOptions): Heartbeats {
  const intervalMs = opts.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  const subject = subjects.heartbeat(opts.provider);
  const provider = create(ProviderRefSchema, opts.provider);
  let reachable = false;
  let hypervisorVersion = '';
  let capabilities: string[] = [];
  let probing: Promise<void> | undefined;

  const probe = async () => {
    try {
      const [v, caps] = await withTimeout(Promise.all([opts.driver.validate(), opts.driver.capabilities()]), intervalMs);
      if (!reachable) opts.log.info('hypervisor reachable', { hypervisorVersion: v.version });
      reachable = true;
      hypervisorVersion = v.version;
      capabilities = caps;
    } catch (err) {
      if (reachable) opts.log.warn('hypervisor unreachable', { err });
      reachable = false;
    }
  };
  const beat = () => {
    probing ??= probe().finally(() => (probing = undefined));
    const hb = create(HeartbeatSchema, {
      provider,
      agentId: opts.agentId,
      version: opts.version,
      sentAtUnixMs: BigInt(Date.now()),
      capabilities,
      inFlight: opts.inFlight(),
      hypervisorReachable: reachable,
      hypervisorVersion,
    });
    try {
      opts.nc.publish(subject, toBinary(HeartbeatSchema, hb));
    } catch (err) {
      opts.log.debug('heartbeat not sent', { err });
    }
  };
  // The first beat waits for the first probe, so it already says whether the hypervisor answers.
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  probing = probe().finally(() => {
    probing = undefined;
    if (stopped) return;
    beat();
    timer = setInterval(beat, intervalMs);
  });
  return {
    reachable: () => reachable,
    stop: () => {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}
