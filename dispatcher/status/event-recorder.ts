/**
 * core/v1 Events on a VirtualMachine, for people (`kubectl describe vm`, `kubectl get events`).
 * Best effort: Events go through a bounded queue (event-queue.ts); a failed Event is logged and
 * never retried, an Event that finds the queue full is dropped and counted, and neither ever
 * blocks a status write.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { API_VERSION } from '../../api/crd.ts';
import type { VirtualMachine } from '../../api/objects.ts';
import type { KubeApi } from '../k8s/kube-api.ts';
import type { Logger } from '../log.ts';
import { EventQueue } from './event-queue.ts';
import type { Transition } from './transitions.ts';

export const EVENT_COMPONENT = 'virtrigaud-dispatcher';
/** As client-go's event broadcaster (maxQueuedEvents). */
export const EVENT_QUEUE_CAPACITY = 1000;
/** POSTs in flight: one per pooled connection of the Events client. */
export const EVENT_SEND_CONCURRENCY = 4;
/** At most one "dropped" warning per this interval (the counter has the exact figure). */
const DROP_WARNING_EVERY_MS = 30_000;

export interface EventRecorder {
  record(vm: VirtualMachine, transitions: readonly Transition[]): void;
  /** Resolves once every queued Event is sent or failed. */
  idle(): Promise<void>;
}

export interface EventRecorderOptions {
  api: Pick<KubeApi, 'createEvent'>;
  identity: string;
  log: Logger;
  onRecorded?: () => void;
  onDropped?: () => void;
  capacity?: number;
  concurrency?: number;
}

export function createEventRecorder(opts: EventRecorderOptions): EventRecorder {
  const { api, identity, log } = opts;
  let lastDropWarning = -Infinity;
  let droppedSinceWarning = 0;
  const queue = new EventQueue<CoreV1Event>({
    capacity: opts.capacity ?? EVENT_QUEUE_CAPACITY,
    concurrency: opts.concurrency ?? EVENT_SEND_CONCURRENCY,
    send: (event) => api.createEvent(event.metadata?.namespace ?? '', event),
    onSent: opts.onRecorded,
    onFailed: (event, err) => {
      const o = event.involvedObject;
      log.warn('event not recorded', { kind: 'VirtualMachine', namespace: o.namespace, name: o.name, reason: event.reason, err });
    },
    onDropped: (event) => {
      opts.onDropped?.();
      droppedSinceWarning++;
      const now = performance.now();
      if (now - lastDropWarning < DROP_WARNING_EVERY_MS) return;
      log.warn('events dropped: the apiserver takes them slower than VMs change; status is complete, only the Event history is thinned', {
        dropped: droppedSinceWarning, queued: queue.size, latest: `${event.involvedObject.namespace}/${event.involvedObject.name} ${event.reason}`,
      });
      lastDropWarning = now;
      droppedSinceWarning = 0;
    },
  });
  return {
    record(vm, list) {
      const namespace = vm.metadata.namespace ?? '';
      const name = vm.metadata.name ?? '';
      for (const t of list) {
        const now = new Date();
        queue.push({
          metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: {
            apiVersion: API_VERSION, kind: 'VirtualMachine', name, namespace,
            uid: vm.metadata.uid, resourceVersion: vm.metadata.resourceVersion,
          },
          type: t.type,
          reason: t.reason,
          message: t.message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: EVENT_COMPONENT },
          reportingComponent: EVENT_COMPONENT,
          reportingInstance: identity,
        });
      }
    },
    idle: () => queue.idle(),
  };
}
