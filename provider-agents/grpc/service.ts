/**
 * The provider.v1 Provider service over a Driver, for callers that speak the original VirtRigaud's
 * gRPC (its manager, its tools). Every call finishes in place: no task ids are handed out. Calls
 * the neutral Driver has no verb for (hardware upgrade, image prepare, disk export/import/info,
 * listing) answer Unimplemented.
 *
 * Errors: bad input → InvalidArgument (with the field path); unknown id → NotFound; hypervisor
 * unreachable → Unavailable (retry); spec refused → FailedPrecondition; unsupported → Unimplemented.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import {
  DesiredVMSchema, PowerState, SnapshotCreateSchema,
  type ObservedVM,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PowerOp, Provider } from '../../proto/gen/provider/v1/provider_pb.ts';
import type { Driver, OperationContext } from '../core/driver.ts';
import { NotSupportedError, PermanentError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { checkId, uidForCreate, uidFromName } from './ids.ts';
import { parseArray, parseObject, toClassSpec, toDesiredResources, toDisks, toImageSpec, toNetworks, toPlacement } from './json-fields.ts';

function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof TransientError) return new ConnectError(err.message, Code.Unavailable, undefined, undefined, err);
  if (err instanceof NotSupportedError) return new ConnectError(err.message, Code.Unimplemented, undefined, undefined, err);
  if (err instanceof PermanentError) return new ConnectError(`${err.reason}: ${err.message}`, Code.FailedPrecondition, undefined, undefined, err);
  if (err instanceof Error && err.name === 'AbortError') return new ConnectError('the call was cancelled', Code.Canceled);
  return new ConnectError(err instanceof Error ? err.message : String(err), Code.Internal, undefined, undefined, err);
}

const opContext = (ctx: HandlerContext): OperationContext => ({ signal: ctx.signal, progress: () => undefined });

/** Upstream's power state words. */
function powerWord(state: PowerState): string {
  if (state === PowerState.ON) return 'On';
  if (state === PowerState.OFF || state === PowerState.OFF_GRACEFUL) return 'Off';
  return 'Unknown';
}

export function providerService(driver: Driver, log: Logger): Partial<ServiceImpl<typeof Provider>> {
  /** Runs a call, mapping our errors onto gRPC codes (and logging the unexpected ones). */
  const call = async <T>(method: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const mapped = toConnectError(err);
      if (mapped.code === Code.Internal) log.error('grpc call failed', { method, err });
      throw mapped;
    }
  };
  const mustFind = async (path: string, id: string): Promise<ObservedVM> => {
    const vm = await driver.find(checkId(path, id));
    if (!vm) throw new ConnectError(`${path}: no VM carries id ${id}`, Code.NotFound);
    return vm;
  };

  return {
    validate: () => call('Validate', async () => {
      try {
        const { version } = await driver.validate();
        return { ok: true, message: `${driver.type} ${version}` };
      } catch (err) {
        return { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
    }),

    create: (req, ctx) => call('Create', async () => {
      const uid = uidForCreate(req.name, req.tags);
      const desired = create(DesiredVMSchema, {
        class: toClassSpec('class_json', parseObject('class_json', req.classJson)),
        image: toImageSpec('image_json', parseObject('image_json', req.imageJson)),
        networks: toNetworks('networks_json', parseArray('networks_json', req.networksJson)),
        disks: toDisks('disks_json', parseArray('disks_json', req.disksJson)),
        placement: toPlacement('placement_json', parseObject('placement_json', req.placementJson)),
        cloudInit: { userData: req.userData, metaData: req.metaData },
        tags: req.tags,
      });
      // The identity rule makes a retried Create return the VM the first one made.
      const existing = await driver.find(uid);
      if (!existing) await driver.create(uid, desired, opContext(ctx));
      return { id: uid };
    }),

    delete: (req, ctx) => call('Delete', async () => {
      const uid = checkId('id', req.id);
      const vm = await driver.find(uid);
      if (vm) {
        await driver.destroy(vm, opContext(ctx));
        if (await driver.find(uid)) throw new ConnectError(`id: VM ${uid} is still present after destroy; retry`, Code.Unavailable);
      }
      return {};
    }),

    power: (req, ctx) => call('Power', async () => {
      const vm = await mustFind('id', req.id);
      const op = opContext(ctx);
      switch (req.op) {
        case PowerOp.ON:
          await driver.setPower(vm, PowerState.ON, 0, op);
          break;
        case PowerOp.OFF:
          await driver.setPower(vm, PowerState.OFF, 0, op);
          break;
        case PowerOp.SHUTDOWN_GRACEFUL:
          await driver.setPower(vm, PowerState.OFF_GRACEFUL, req.gracefulTimeoutSeconds, op);
          break;
        case PowerOp.REBOOT: {
          const off = await driver.setPower(vm, PowerState.OFF, req.gracefulTimeoutSeconds, op);
          await driver.setPower(off, PowerState.ON, 0, op);
          break;
        }
        default:
          throw new ConnectError(`op: expected ON, OFF, REBOOT or SHUTDOWN_GRACEFUL, got ${req.op}`, Code.InvalidArgument);
      }
      return {};
    }),

    reconfigure: (req, ctx) => call('Reconfigure', async () => {
      const vm = await mustFind('id', req.id);
      const { class: cls, disks } = toDesiredResources('desired_json', req.desiredJson);
      await driver.reconfigure(vm, create(DesiredVMSchema, { class: cls, disks }), opContext(ctx));
      return {};
    }),

    describe: (req) => call('Describe', async () => {
      const vm = await driver.find(checkId('id', req.id));
      if (!vm) return { exists: false, powerState: 'Unknown' };
      return {
        exists: true,
        powerState: powerWord(vm.powerState),
        ips: vm.ips,
        consoleUrl: vm.consoleUrl,
        providerRawJson: JSON.stringify({
          hypervisorId: vm.id, cpus: vm.cpus, memoryMiB: Number(vm.memoryMib), appliedGeneration: Number(vm.appliedGeneration),
        }),
      };
    }),

    taskStatus: (req) => call('TaskStatus', async () => {
      throw new ConnectError(`task: no task ${JSON.stringify(req.task?.id ?? '')}; this provider finishes every call in place`, Code.NotFound);
    }),

    snapshotCreate: (req, ctx) => call('SnapshotCreate', async () => {
      const vm = await mustFind('vm_id', req.vmId);
      if (!req.nameHint.trim()) throw new ConnectError('name_hint: expected a snapshot name, got ""', Code.InvalidArgument);
      // Same VM and name: the same snapshot, so a retried call does not take a second one.
      const snapshotUid = uidFromName(`${req.vmId}/snapshot/${req.nameHint}`);
      const found = vm.snapshots.find((s) => s.snapshotUid === snapshotUid);
      const snap = found ?? await driver.snapshotCreate(vm, create(SnapshotCreateSchema, {
        snapshotUid, name: req.nameHint, description: req.description, includeMemory: req.includeMemory,
      }), opContext(ctx));
      return { snapshotId: snap.id };
    }),

    snapshotDelete: (req, ctx) => call('SnapshotDelete', async () => {
      const vm = await mustFind('vm_id', req.vmId);
      if (vm.snapshots.some((s) => s.id === req.snapshotId)) await driver.snapshotDelete(vm, req.snapshotId, opContext(ctx));
      return {};
    }),

    snapshotRevert: (req, ctx) => call('SnapshotRevert', async () => {
      const vm = await mustFind('vm_id', req.vmId);
      await driver.snapshotRevert(vm, req.snapshotId, opContext(ctx));
      return {};
    }),

    clone: (req, ctx) => call('Clone', async () => {
      const source = await mustFind('source_vm_id', req.sourceVmId);
      if (!req.targetName.trim()) throw new ConnectError('target_name: expected the clone name, got ""', Code.InvalidArgument);
      const targetUid = uidFromName(req.targetName);
      const desired = create(DesiredVMSchema, {
        class: toClassSpec('class_json', parseObject('class_json', req.classJson)),
        placement: toPlacement('placement_json', parseObject('placement_json', req.placementJson)),
      });
      parseObject('customize_json', req.customizeJson); // validated; guest customisation is not modelled yet
      if (!(await driver.find(targetUid))) await driver.clone(source, targetUid, req.linked, desired, opContext(ctx));
      return { targetVmId: targetUid };
    }),

    getCapabilities: () => call('GetCapabilities', async () => {
      const caps = new Set(await driver.capabilities());
      return {
        supportsReconfigureOnline: caps.has('cpuHotAdd') || caps.has('memoryHotAdd'),
        supportsDiskExpansionOnline: caps.has('onlineDiskExpansion'),
        supportsSnapshots: true,
        supportsMemorySnapshots: caps.has('memorySnapshots'),
        supportsLinkedClones: caps.has('linkedClones'),
      };
    }),
  };
}
