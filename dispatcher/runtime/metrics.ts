/** The dispatcher's Prometheus metrics, on a registry of its own (several dispatchers may share a process in tests). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface DispatcherMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  reconcileSeconds: Histogram<'result'>;
  commandsPublished: Counter<'operation' | 'duplicate'>;
  statusWrites: Counter<'result'>;
  statusEvents: Counter<'result'>;
  malformedEvents: Counter;
  deliveryExhausted: Counter;
  kubeEvents: Counter;
  kubeEventsDropped: Counter;
  informerRestarts: Counter<'kind'>;
  queueDepth: Gauge;
  leader: Gauge;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): DispatcherMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'virtrigaud_dispatcher_' });
  const p = 'virtrigaud_dispatcher_';
  return {
    registry,
    reconciles: new Counter({ name: `${p}reconciles_total`, help: 'VM reconciles by result (published, unchanged, waiting, invalid, finalizer, requeue, error)', labelNames: ['result'], registers: [registry] }),
    reconcileSeconds: new Histogram({ name: `${p}reconcile_duration_seconds`, help: 'Time to reconcile one VM', labelNames: ['result'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
    commandsPublished: new Counter({ name: `${p}commands_published_total`, help: 'Commands published on the bus (duplicate: JetStream dropped a republish)', labelNames: ['operation', 'duplicate'], registers: [registry] }),
    statusWrites: new Counter({ name: `${p}status_writes_total`, help: 'VM status writes by result (written, unchanged, conflict, gone, error)', labelNames: ['result'], registers: [registry] }),
    statusEvents: new Counter({ name: `${p}status_events_total`, help: 'Status events consumed by outcome (applied, stale, superseded, deleted, orphan, error)', labelNames: ['result'], registers: [registry] }),
    malformedEvents: new Counter({ name: `${p}malformed_events_total`, help: 'Messages on VR_EVENTS that were not valid status events (terminated and dead-lettered)', registers: [registry] }),
    deliveryExhausted: new Counter({ name: `${p}command_delivery_exhausted_total`, help: 'Max-deliveries advisories turned into a VM condition', registers: [registry] }),
    kubeEvents: new Counter({ name: `${p}kubernetes_events_total`, help: 'core/v1 Events recorded on VMs', registers: [registry] }),
    kubeEventsDropped: new Counter({ name: `${p}kubernetes_events_dropped_total`, help: 'core/v1 Events dropped because 1,000 were already waiting for the apiserver', registers: [registry] }),
    informerRestarts: new Counter({ name: `${p}informer_restarts_total`, help: 'Informer list/watch restarts after an error', labelNames: ['kind'], registers: [registry] }),
    queueDepth: new Gauge({ name: `${p}queue_depth`, help: 'VM keys waiting in the work queue', registers: [registry] }),
    leader: new Gauge({ name: `${p}leader`, help: '1 while this replica holds the lease', registers: [registry] }),
  };
}
