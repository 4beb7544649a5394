/** The VM's power state and graceful-shutdown timeout as the bus carries them. */
import type { VirtualMachine } from '../../api/objects.ts';
import { PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

export const DEFAULT_GRACEFUL_TIMEOUT_S = 60;

const POWER: Record<string, PowerState> = {
  On: PowerState.ON,
  Off: PowerState.OFF,
  OffGraceful: PowerState.OFF_GRACEFUL,
};

/** Desired power; On when unset (the original's default). */
export function powerStateOf(vm: VirtualMachine): PowerState {
  return POWER[vm.spec.powerState ?? 'On'] ?? PowerState.ON;
}

const UNIT_S: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/** Seconds of a Go duration ("90s", "1m30s", "2m"); undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_S[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : undefined;
}

export function gracefulTimeoutOf(vm: VirtualMachine): number | undefined {
  const text = vm.spec.lifecycle?.gracefulShutdownTimeout;
  if (text === undefined) return DEFAULT_GRACEFUL_TIMEOUT_S;
  const s = durationSeconds(text);
  return s === undefined ? undefined : Math.ceil(s);
}
