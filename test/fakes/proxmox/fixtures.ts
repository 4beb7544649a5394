/** Drivers pointed at a fake PVE, operation contexts and desired VMs, for the Proxmox tests and bench. */
import { create } from '@bufbuild/protobuf';
import {
  ClassSpecSchema, DesiredVMSchema, ImageSpecSchema, PlacementSchema, PowerState, type DesiredVM, type NetworkSpec,
} from '../../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { Credentials } from '../../../provider-agents/core/connection.ts';
import type { OperationContext } from '../../../provider-agents/core/driver.ts';
import { ProxmoxDriver, type ProxmoxDriverOptions } from '../../../provider-agents/proxmox/driver.ts';
import type { FakePve } from './server.ts';

export type Trust = 'ca' | 'pin' | 'insecure' | 'none';

export function credentialsFor(fake: FakePve, o: { auth?: 'token' | 'ticket'; trust?: Trust; secret?: string } = {}): Credentials {
  const values: Record<string, string> = o.auth === 'ticket'
    ? { username: fake.user.username, password: o.secret ?? fake.user.password }
    : { token_id: fake.token.id, token_secret: o.secret ?? fake.token.secret };
  const trust = o.trust ?? 'ca';
  if (trust === 'ca') values['ca.crt'] = fake.caPem;
  if (trust === 'pin') values.thumbprint = fake.fingerprint;
  return new Credentials(values);
}

/** A driver with quick polling and short lock retries (the fake's tasks take tens of ms). */
export function driverFor(fake: FakePve, o: { auth?: 'token' | 'ticket'; trust?: Trust; secret?: string } & Partial<ProxmoxDriverOptions> = {}): ProxmoxDriver {
  const { auth, trust, secret, ...rest } = o;
  return new ProxmoxDriver({
    endpoint: fake.url,
    credentials: credentialsFor(fake, { auth, trust, secret }),
    insecureSkipVerify: trust === 'insecure',
    taskWait: { pollMs: 10, maxPollMs: 50, progressEveryMs: 50, unreachableBudgetMs: 10_000 },
    lockRetry: { budgetMs: 10_000, baseMs: 20, capMs: 200 },
    ...rest,
  });
}

export interface RecordingContext extends OperationContext {
  progress: OperationContext['progress'] & { calls: Array<[number, string]> };
  abort(reason?: unknown): void;
}

export function opCtx(generation = 1n): RecordingContext {
  const ac = new AbortController();
  const calls: Array<[number, string]> = [];
  const progress = Object.assign((p: number, d: string) => {
    calls.push([p, d]);
  }, { calls });
  return { signal: ac.signal, progress, generation, abort: (r?: unknown) => ac.abort(r) };
}

export function aVm(o: {
  cpus?: number; memoryMib?: bigint; power?: PowerState; node?: string; datastore?: string; networks?: NetworkSpec[];
  template?: { id?: number; name?: string; full?: boolean }; url?: string; cpuHotAdd?: boolean; memoryHotAdd?: boolean;
} = {}): DesiredVM {
  return create(DesiredVMSchema, {
    class: create(ClassSpecSchema, { name: 'small', cpus: o.cpus ?? 1, memoryMib: o.memoryMib ?? 1024n, cpuHotAdd: o.cpuHotAdd ?? false, memoryHotAdd: o.memoryHotAdd ?? false }),
    powerState: o.power ?? PowerState.ON,
    networks: o.networks ?? [],
    placement: create(PlacementSchema, { node: o.node ?? '', datastore: o.datastore ?? '' }),
    ...(o.template ? { image: create(ImageSpecSchema, { source: { case: 'proxmoxTemplate', value: { templateId: o.template.id ?? 0, templateName: o.template.name ?? '', fullClone: o.template.full ?? false } } }) } : {}),
    ...(o.url ? { image: create(ImageSpecSchema, { source: { case: 'url', value: { url: o.url } } }) } : {}),
  });
}
