/**
 * core/v1 Events on a VirtualMachine, for people (`kubectl describe vm`, `kubectl get events`).
 * Best effort: a failed Event is logged, never retried, and never blocks a status write.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { API_VERSION } from '../../api/crd.ts';
import type { VirtualMachine } from '../../api/objects.ts';
import type { KubeApi } from '../k8s/kube-api.ts';
import type { Logger } from '../log.ts';
import type { Transition } from './transitions.ts';

export const EVENT_COMPONENT = 'virtrigaud-dispatcher';

export interface EventRecorder {
  record(vm: VirtualMachine, transitions: readonly Transition[]): void;
}

export function createEventRecorder(api: Pick<KubeApi, 'createEvent'>, identity: string, log: Logger, onRecorded?: () => void): EventRecorder {
  return {
    record(vm, list) {
      const namespace = vm.metadata.namespace ?? '';
      const name = vm.metadata.name ?? '';
      for (const t of list) {
        const now = new Date();
        const event: CoreV1Event = {
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
        };
        api.createEvent(namespace, event).then(onRecorded, (err: unknown) => {
          log.warn('event not recorded', { kind: 'VirtualMachine', namespace, name, reason: t.reason, err });
        });
      }
    },
  };
}
