/**
 * A max-deliveries advisory → the VM it was for → Ready=False CommandDeliveryExhausted, and a
 * reconcile after the redispatch delay (which publishes the command again under a new id).
 *
 * The advisory names only the stream sequence. The VM is found, most robust first, by: the
 * ledger (commands this leader published), status.lastCommand.streamSequence in the cache (any
 * earlier leader's), and finally the message itself, fetched from VR_COMMANDS by sequence (it
 * stays there: nothing acknowledged it).
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { VirtualMachine } from '../../api/objects.ts';
import { COMMAND_STREAM } from '../../proto/bus/topology.ts';
import { CommandSchema } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { MaxDeliveriesAdvisory } from '../bus/advisory-listener.ts';
import { keyOf, objectKey } from '../k8s/object-key.ts';
import type { Logger } from '../log.ts';
import type { DispatcherMetrics } from '../runtime/metrics.ts';
import { timestamp } from '../status/conditions.ts';
import { applyDeliveryExhausted } from '../status/mutations.ts';
import type { StatusWriter } from '../status/status-writer.ts';
import type { CommandLedger } from './ledger.ts';

export interface DeliveryExhaustedDeps {
  vms: { list(): readonly VirtualMachine[]; get(namespace: string, name: string): VirtualMachine | undefined };
  vmKeyByUid(uid: string): string | undefined;
  jsm: JetStreamManager;
  ledger: CommandLedger;
  statusWriter: StatusWriter;
  requeueAfter(key: string, ms: number): void;
  redispatchAfterExhaustedMs: number;
  metrics: DispatcherMetrics;
  log: Logger;
  now?: () => number;
}

interface Target {
  key: string;
  uid: string;
  commandId?: string;
}

async function locate(deps: DeliveryExhaustedDeps, seq: number): Promise<Target | undefined> {
  const fromLedger = deps.ledger.uidOfStreamSequence(seq);
  if (fromLedger) {
    const key = deps.vmKeyByUid(fromLedger);
    if (key) return { key, uid: fromLedger, commandId: deps.ledger.get(fromLedger)?.id };
  }
  for (const vm of deps.vms.list()) {
    const last = vm.status?.lastCommand;
    if (last?.streamSequence === seq) return { key: objectKey(vm), uid: vm.metadata.uid ?? '', commandId: last.id };
  }
  const msg = await deps.jsm.streams.getMessage(COMMAND_STREAM, { seq }).catch(() => null);
  if (!msg) return undefined;
  const meta = fromBinary(CommandSchema, msg.data).meta;
  if (!meta?.object) return undefined;
  return { key: keyOf(meta.object.namespace, meta.object.name), uid: meta.object.uid, commandId: meta.commandId };
}

export function createDeliveryExhaustedHandler(deps: DeliveryExhaustedDeps): (advisory: MaxDeliveriesAdvisory) => Promise<void> {
  const now = deps.now ?? Date.now;
  return async (advisory) => {
    if (advisory.stream !== COMMAND_STREAM) return;
    const target = await locate(deps, advisory.streamSequence);
    if (!target) {
      deps.log.warn('max-deliveries advisory for an unknown command', { streamSequence: advisory.streamSequence, consumer: advisory.consumer });
      return;
    }
    deps.metrics.deliveryExhausted.inc();
    const t = now();
    const at = timestamp(t);
    const retryAt = timestamp(t + deps.redispatchAfterExhaustedMs);
    const ledgered = deps.ledger.get(target.uid);
    if (ledgered && ledgered.id === target.commandId) deps.ledger.set(target.uid, { ...ledgered, deliveryExhaustedAt: at });
    await deps.statusWriter.update(target.key, target.uid, (s) =>
      applyDeliveryExhausted(s, { commandId: target.commandId, streamSequence: advisory.streamSequence, deliveries: advisory.deliveries }, at, retryAt));
    const [namespace = '', name = ''] = target.key.split('/');
    deps.log.warn('command delivery exhausted', { kind: 'VirtualMachine', namespace, name, commandId: target.commandId, deliveries: advisory.deliveries });
    deps.requeueAfter(target.key, deps.redispatchAfterExhaustedMs);
  };
}
