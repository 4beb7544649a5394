/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection:
 *
 * - followers check the Lease every retry interval and take it over once its record has not
 *   changed for a lease duration *by their own clock* (no clock comparison between replicas);
 * - the leader renews every renew interval and steps down as soon as it sees another holder, or
 *   when it could not renew for the renew deadline (< lease duration, so two leaders never
 *   overlap); stepping down aborts the term's AbortSignal at once;
 * - stop({release: true}) empties the holder so a follower takes over at its next check.
 *
 * With the defaults (10 s lease, 3 s renew, 1.5 s retry) a crashed leader is replaced within
 * 11.5 s: its last renewal is seen within a retry interval, and the follower checks again exactly
 * when the lease expires by its clock.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { isConflict } from '../errors.ts';
import type { KubeApi } from '../k8s/kube-api.ts';
import type { Logger } from '../log.ts';

export interface LeaderElectionOptions {
  api: Pick<KubeApi, 'getLease' | 'createLease' | 'replaceLease'>;
  namespace: string;
  name: string;
  identity: string;
  durationMs: number;
  renewIntervalMs: number;
  renewDeadlineMs: number;
  retryIntervalMs: number;
  /** Called when this replica becomes the leader; `signal` aborts when the term ends. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
  log: Logger;
  now?: () => number;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** Stops campaigning; with release, hands the lease over at once. */
  stop(opts?: { release?: boolean }): Promise<void>;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type Attempt = 'leader' | 'follower' | 'unknown';

export function startLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const now = opts.now ?? Date.now;
  const { namespace, name, identity, log } = opts;
  let leader = false;
  let term: AbortController | undefined;
  let lastRenew = 0;
  let observed: { record: string; at: number } | undefined;
  /** When the lease we follow expires by our clock (the next check is then, not a retry later). */
  let followingUntil: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let ticking: Promise<void> = Promise.resolve();

  const spec = (holder: string, acquire: string | undefined, transitions: number) => ({
    holderIdentity: holder,
    leaseDurationSeconds: Math.ceil(opts.durationMs / 1000),
    acquireTime: (acquire ?? microTime(now())) as unknown as Date,
    renewTime: microTime(now()) as unknown as Date,
    leaseTransitions: transitions,
  });

  const attempt = async (): Promise<Attempt> => {
    const lease = await opts.api.getLease(namespace, name);
    if (!lease) {
      try {
        await opts.api.createLease(namespace, { metadata: { name, namespace }, spec: spec(identity, undefined, 0) });
        return 'leader';
      } catch (err) {
        if (isConflict(err)) return 'follower';
        throw err;
      }
    }
    const s = lease.spec ?? {};
    const holder = s.holderIdentity ?? '';
    const renewTime = String(s.renewTime ?? '');
    const transitions = s.leaseTransitions ?? 0;
    const acquire = s.acquireTime === undefined ? undefined : String(s.acquireTime instanceof Date ? microTime(s.acquireTime.getTime()) : s.acquireTime);
    const record = `${holder}|${renewTime}|${transitions}`;
    if (observed?.record !== record) observed = { record, at: now() };

    const replace = async (body: V1Lease): Promise<Attempt> => {
      try {
        const updated = await opts.api.replaceLease(namespace, name, body);
        const u = updated.spec ?? {};
        observed = { record: `${u.holderIdentity ?? ''}|${String(u.renewTime ?? '')}|${u.leaseTransitions ?? 0}`, at: now() };
        return 'leader';
      } catch (err) {
        if (isConflict(err)) return 'unknown';
        throw err;
      }
    };
    const metadata = { name, namespace, resourceVersion: lease.metadata?.resourceVersion };

    // 1. Ours: renew.
    if (holder === identity) return replace({ metadata, spec: spec(identity, acquire, transitions) });
    // 2. Someone else's and still fresh (by our clock since we saw it change): follow.
    const durationMs = (s.leaseDurationSeconds ?? Math.ceil(opts.durationMs / 1000)) * 1000;
    followingUntil = observed.at + durationMs;
    if (holder && now() < followingUntil) return 'follower';
    // 3. Released or expired: take it over (the resourceVersion makes a race lose with a 409).
    const r = await replace({ metadata, spec: spec(identity, undefined, transitions + 1) });
    return r === 'unknown' ? 'follower' : r;
  };

  const begin = () => {
    leader = true;
    lastRenew = now();
    term = new AbortController();
    log.info('became leader', { lease: `${namespace}/${name}`, identity });
    opts.onStartedLeading(term.signal);
  };
  const end = (why: string) => {
    if (!leader) return;
    leader = false;
    term?.abort(new Error(why));
    term = undefined;
    log.warn('stopped leading', { lease: `${namespace}/${name}`, identity, why });
    opts.onStoppedLeading();
  };

  const tick = async () => {
    followingUntil = undefined;
    let result: Attempt;
    try {
      result = await attempt();
    } catch (err) {
      log.warn('lease check failed', { lease: `${namespace}/${name}`, err });
      result = 'unknown';
    }
    if (stopped) return;
    if (result === 'leader') {
      lastRenew = now();
      if (!leader) begin();
    } else if (leader && result === 'follower') {
      end('another replica holds the lease');
    } else if (leader && now() - lastRenew > opts.renewDeadlineMs) {
      end(`could not renew the lease for ${opts.renewDeadlineMs} ms`);
    }
    let delay = opts.retryIntervalMs;
    if (leader) delay = result === 'leader' ? opts.renewIntervalMs : Math.min(opts.retryIntervalMs, opts.renewIntervalMs);
    else if (followingUntil !== undefined) delay = Math.max(10, Math.min(delay, followingUntil - now() + 10));
    timer = setTimeout(() => {
      ticking = tick();
    }, delay);
  };
  ticking = tick();

  return {
    isLeader: () => leader,
    async stop(stopOpts = {}) {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking.catch(() => {});
      if (timer) clearTimeout(timer);
      const wasLeader = leader;
      end('stopping');
      if (!wasLeader || !stopOpts.release) return;
      try {
        const lease = await opts.api.getLease(namespace, name);
        if (lease?.spec?.holderIdentity !== identity) return;
        await opts.api.replaceLease(namespace, name, {
          metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
          spec: { ...spec('', undefined, lease.spec.leaseTransitions ?? 0), leaseDurationSeconds: 1 },
        });
      } catch (err) {
        log.warn('lease not released', { lease: `${namespace}/${name}`, err });
      }
    },
  };
}
