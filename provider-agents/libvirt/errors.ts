/**
 * libvirt failures as the agent runtime's errors: a connection problem or a temporary hypervisor
 * failure is retried (TransientError, never "VM gone"); a spec libvirt refuses is permanent; a call
 * the hypervisor does not implement is NotSupported. Messages say what failed on which object.
 */
import { AgentError, NotSupportedError, PermanentError, TransientError, isAbort } from '../core/errors.ts';
import { ConnectionError, LibvirtError, ProtocolError } from './rpc/errors.ts';
import { ErrorCode } from './rpc/protocol.ts';
import { XdrError } from './rpc/xdr.ts';
import { XmlError } from './xml.ts';

const PERMANENT: Record<number, string> = {
  [ErrorCode.XmlError]: 'InvalidSpec',
  [ErrorCode.InvalidArg]: 'InvalidSpec',
  [ErrorCode.ConfigUnsupported]: 'InvalidSpec',
  [ErrorCode.NoNetwork]: 'NetworkNotFound',
  [ErrorCode.NoStoragePool]: 'StoragePoolNotFound',
  [ErrorCode.OperationDenied]: 'PermissionDenied',
  [ErrorCode.DomExist]: 'NameConflict',
};

/** `err` as an AgentError about `what` (e.g. "define domain vr-…"). Aborts pass through unchanged. */
export function asAgentError(err: unknown, what: string): unknown {
  if (err instanceof AgentError || isAbort(err)) return err;
  if (err instanceof ConnectionError) {
    return new TransientError(`${what}: ${err.message}`, { reason: err.reason === 'ConnectionClosed' || err.reason === 'ConnectionReset' ? 'ProviderUnreachable' : err.reason, cause: err });
  }
  if (err instanceof ProtocolError || err instanceof XdrError) {
    return new TransientError(`${what}: libvirtd's answer could not be read (${err.message})`, { reason: 'ProtocolError', cause: err });
  }
  if (err instanceof XmlError) {
    return new TransientError(`${what}: libvirtd returned XML that could not be read (${err.message})`, { reason: 'ProtocolError', cause: err });
  }
  if (err instanceof LibvirtError) {
    if (err.unsupported) return new NotSupportedError(`${what} (${err.remote.message ?? 'unsupported by this hypervisor driver'})`, 'libvirt');
    const permanent = PERMANENT[err.code];
    if (permanent) return new PermanentError(`${what}: ${err.remote.message ?? err.message}`, { reason: permanent, cause: err });
    if (err.code === ErrorCode.NoDomain) return new TransientError(`${what}: the domain vanished meanwhile (${err.remote.message})`, { reason: 'VMVanished', cause: err });
    return new TransientError(`${what}: ${err.remote.message ?? err.message}`, { reason: 'HypervisorError', cause: err });
  }
  return new TransientError(`${what}: ${(err as Error)?.message ?? String(err)}`, { reason: 'HypervisorError', cause: err });
}

/** Runs `fn`, converting whatever it throws (see asAgentError). */
export async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asAgentError(err, what);
  }
}

export function isLibvirtCode(err: unknown, ...codes: number[]): boolean {
  return err instanceof LibvirtError && codes.includes(err.code);
}

export function isUnsupported(err: unknown): boolean {
  return err instanceof LibvirtError && err.unsupported;
}
