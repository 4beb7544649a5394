/**
 * Agent heartbeats (vr.hb.<ns>.<provider>, every 5 s from each agent replica) folded into one
 * health summary per Provider. Only a change of the summary is reported — an agent appearing or
 * going silent, the hypervisor becoming (un)reachable, a new version or capability set — so a
 * steady fleet causes no work at all. The provider comes from the subject (which the agent's bus
 * credentials pin), not from the message body.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { SUBJECT_ROOT, subjects } from '../../proto/bus/subjects.ts';
import { HeartbeatSchema } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Logger } from '../log.ts';

export interface HealthSummary {
  /** Agents heard from within the timeout. */
  agents: number;
  /** Of those, how many reach their hypervisor. */
  reachable: number;
  /** Some agent is alive and reaches the hypervisor. */
  healthy: boolean;
  /** The agents' version (the newest when a rollout mixes them). */
  version: string;
  hypervisorVersion: string;
  /** Features the hypervisor supports (api/capabilities.ts names), sorted. */
  capabilities: string[];
}

interface AgentBeat {
  seenAt: number;
  version: string;
  reachable: boolean;
  hypervisorVersion: string;
  capabilities: string[];
}

/** Compares dotted versions numerically where they are numbers. */
function newer(a: string, b: string): boolean {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) return nx > ny;
    return x > y;
  }
  return false;
}

export function summarize(beats: Iterable<AgentBeat>): HealthSummary {
  let agents = 0;
  let reachable = 0;
  let version = '';
  let hypervisorVersion = '';
  const caps = new Set<string>();
  for (const b of beats) {
    agents++;
    if (b.reachable) {
      reachable++;
      if (!hypervisorVersion) hypervisorVersion = b.hypervisorVersion;
      for (const c of b.capabilities) caps.add(c);
    }
    if (!version || newer(b.version, version)) version = b.version;
  }
  return { agents, reachable, healthy: reachable > 0, version, hypervisorVersion, capabilities: [...caps].sort() };
}

const fingerprint = (s: HealthSummary | undefined) => (s ? JSON.stringify(s) : '');

export interface HeartbeatTrackerOptions {
  nc: NatsConnection;
  /** An agent silent this long no longer counts. */
  timeoutMs: number;
  /** A provider's summary changed (key = `<ns>/<name>`). */
  onChange: (key: string) => void;
  log: Logger;
  now?: () => number;
}

export class HeartbeatTracker {
  private readonly agents = new Map<string, Map<string, AgentBeat>>();
  private readonly summaries = new Map<string, HealthSummary>();
  private sub: Subscription | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: HeartbeatTrackerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.sub = this.opts.nc.subscribe(subjects.allHeartbeats, { callback: (err, msg) => {
      if (err) {
        this.opts.log.warn('heartbeat subscription failed', { err });
        return;
      }
      this.receive(msg.subject, msg.data);
    } });
    // Silence is noticed by looking: a quarter of the timeout at most late.
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.floor(this.opts.timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** One heartbeat message (exposed for tests). */
  receive(subject: string, data: Uint8Array): void {
    const parts = subject.split('.');
    if (parts.length !== 4 || parts[0] !== SUBJECT_ROOT || parts[1] !== 'hb') return;
    const key = `${parts[2]}/${parts[3]}`;
    let hb;
    try {
      hb = fromBinary(HeartbeatSchema, data);
    } catch (err) {
      this.opts.log.debug('malformed heartbeat ignored', { provider: key, err });
      return;
    }
    if (!hb.agentId) return;
    let fleet = this.agents.get(key);
    if (!fleet) this.agents.set(key, (fleet = new Map()));
    fleet.set(hb.agentId, {
      seenAt: this.now(), version: hb.version, reachable: hb.hypervisorReachable,
      hypervisorVersion: hb.hypervisorVersion, capabilities: [...hb.capabilities].sort(),
    });
    this.refresh(key);
  }

  /** The provider's current summary; undefined when no agent has been heard from within the timeout. */
  summary(key: string): HealthSummary | undefined {
    return this.summaries.get(key);
  }

  /** Drops a provider that no longer exists. */
  forget(key: string): void {
    this.agents.delete(key);
    this.summaries.delete(key);
  }

  sweep(): void {
    const cutoff = this.now() - this.opts.timeoutMs;
    for (const [key, fleet] of this.agents) {
      let dropped = false;
      for (const [id, beat] of fleet) {
        if (beat.seenAt < cutoff) {
          fleet.delete(id);
          dropped = true;
        }
      }
      if (fleet.size === 0) this.agents.delete(key);
      if (dropped) this.refresh(key);
    }
  }

  stop(): void {
    this.sub?.unsubscribe();
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private refresh(key: string): void {
    const fleet = this.agents.get(key);
    const next = fleet && fleet.size > 0 ? summarize(fleet.values()) : undefined;
    const before = this.summaries.get(key);
    if (fingerprint(before) === fingerprint(next)) return;
    if (next) this.summaries.set(key, next);
    else this.summaries.delete(key);
    this.opts.onChange(key);
  }
}
