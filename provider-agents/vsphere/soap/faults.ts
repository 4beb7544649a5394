/**
 * vSphere faults as typed errors, and the one place that decides what each means to the agent.
 *
 * `ManagedObjectNotFound` is the only fault that says an object is gone. Every other fault, and
 * every transport failure, is a TransientError (retry) or a PermanentError (the request itself
 * cannot succeed) — never "VM gone".
 */
import { PermanentError, TransientError, type AgentError } from '../../core/errors.ts';
import { attr, child, elementNames, localName, MalformedReplyError, textOf, xsiType, type XmlNode } from './xml.ts';

/** A SOAP fault or a task error from vSphere, by its fault type name. */
export class VimFault extends Error {
  override readonly name = 'VimFault';
  constructor(
    /** The vim25 fault type, e.g. `ManagedObjectNotFound`, `InvalidArgument`. */
    readonly faultName: string,
    message: string,
    /** The method that failed (or the task's description). */
    readonly method: string,
    /** The fault's detail element, for the fields some faults carry (obj, invalidProperty, …). */
    readonly detail?: XmlNode,
  ) {
    super(`vSphere ${method} failed with ${faultName}: ${message}`);
  }

  /** ManagedObjectNotFound's `obj`, when the fault names one. */
  get missingObject(): { type: string; value: string } | undefined {
    const obj = child(this.detail, 'obj');
    const value = textOf(obj);
    const type = attr(obj, 'type');
    return value && type ? { type, value } : undefined;
  }
}

/** The vSphere endpoint could not be reached or answered outside the protocol (network, TLS, HTTP). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(message: string, readonly kind: 'network' | 'tls' | 'http' | 'malformed', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Faults a retry of the same request cannot fix: the spec, the name or the permissions are wrong. */
const PERMANENT_FAULTS = new Set([
  'InvalidArgument', 'InvalidRequest', 'InvalidType', 'InvalidProperty', 'MethodNotFound', 'NotImplemented', 'NotSupported',
  'InvalidDeviceSpec', 'InvalidDeviceOperation', 'InvalidDeviceBacking', 'InvalidController', 'DeviceUnsupportedForVmVersion',
  'InvalidVmConfig', 'VmConfigFault', 'InvalidName', 'DuplicateName', 'AlreadyExists', 'InvalidDatastore', 'InvalidDatastorePath',
  'CpuHotPlugNotSupported', 'MemoryHotPlugNotSupported', 'InsufficientResourcesFault', 'NoDiskSpace', 'NoPermission',
  'InvalidLogin', 'NotFound', 'InvalidFolder', 'OvfConsumerValidationFault', 'OvfImport', 'InvalidSnapshotFormat',
  'NotEnoughLicenses', 'LicenseRestricted', 'DisallowedOperationOnFailoverHost', 'InvalidPowerState',
]);

export function isPermanentFault(faultName: string): boolean {
  return PERMANENT_FAULTS.has(faultName);
}

/** The only signal that an object no longer exists. */
export function isNotFound(err: unknown): err is VimFault {
  return err instanceof VimFault && err.faultName === 'ManagedObjectNotFound';
}

export function isFault(err: unknown, ...names: string[]): err is VimFault {
  return err instanceof VimFault && names.includes(err.faultName);
}

/** The fault carried by a SOAP `Fault` element (its `detail` names the type). */
export function faultFromSoap(fault: XmlNode, method: string): VimFault {
  const message = textOf(child(fault, 'faultstring')) ?? '';
  const detail = child(fault, 'detail');
  const first = elementNames(detail)[0];
  const detailNode = first ? child(detail, first) : undefined;
  // <detail><InvalidArgumentFault xsi:type="InvalidArgument">…: the xsi:type is the fault type.
  const name = xsiType(detailNode) ?? (first ? localName(first).replace(/Fault$/, '') : '') ?? '';
  return new VimFault(name || 'UnknownFault', message || '(no message)', method, detailNode);
}

/** A task's `info.error` (LocalizedMethodFault). */
export function faultFromTaskError(error: XmlNode, what: string): VimFault {
  const fault = child(error, 'fault');
  const name = xsiType(fault) ?? 'UnknownFault';
  const message = textOf(child(error, 'localizedMessage')) || name;
  return new VimFault(name, message, what, fault);
}

/** What a failed call means to the runtime. `what` says, for people, what was being done to which object. */
export function toAgentError(err: unknown, what: string): AgentError {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  if (err instanceof VimFault) {
    const message = `${what}: ${err.message}`;
    if (err.faultName === 'InvalidLogin') {
      return new PermanentError(`${what}: vSphere refused the login with the Provider's credential Secret (keys username, password); fix the Secret`, { reason: 'InvalidCredentials', cause: err });
    }
    if (err.faultName === 'NoPermission') {
      return new PermanentError(`${message}; grant the Provider's vSphere user that privilege`, { reason: 'NoPermission', cause: err });
    }
    if (isPermanentFault(err.faultName)) return new PermanentError(message, { reason: err.faultName, cause: err });
    return new TransientError(message, { reason: err.faultName === 'ManagedObjectNotFound' ? 'ObjectVanished' : err.faultName, cause: err });
  }
  if (err instanceof TransportError) {
    if (err.kind === 'tls') return new PermanentError(`${what}: ${err.message}`, { reason: 'CertificateVerificationFailed', cause: err });
    if (err.kind === 'malformed') return new TransientError(`${what}: ${err.message}`, { reason: 'MalformedReply', cause: err });
    return new TransientError(`${what}: ${err.message}`, { reason: 'ProviderUnreachable', cause: err });
  }
  if (err instanceof MalformedReplyError) return new TransientError(`${what}: ${err.message}`, { reason: 'MalformedReply', cause: err });
  const msg = err instanceof Error ? err.message : String(err);
  return new TransientError(`${what}: ${msg}`, { reason: 'ProviderError', cause: err });
}
