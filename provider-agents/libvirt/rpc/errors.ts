/** What can go wrong talking to libvirtd, as three kinds a caller can act on. */
import { ErrorCode, type RemoteError } from './protocol.ts';

/** libvirtd answered the call with an error (no domain, unsupported, invalid XML, …). */
export class LibvirtError extends Error {
  override readonly name = 'LibvirtError';
  /** virErrorNumber (ErrorCode). */
  readonly code: number;
  /** virErrorDomain: which part of libvirt raised it. */
  readonly from: number;

  constructor(readonly procedure: string, readonly remote: RemoteError) {
    super(`libvirt ${procedure} failed: ${remote.message ?? `error code ${remote.code}`}`);
    this.code = remote.code;
    this.from = remote.domain;
  }

  /** The hypervisor does not implement the call (test driver, old libvirt, driver without the feature). */
  get unsupported(): boolean {
    return this.code === ErrorCode.NoSupport || this.code === ErrorCode.OperationUnsupported || this.code === ErrorCode.ArgumentUnsupported;
  }
}

/** The connection is gone or could not be made: the call's effect on the hypervisor is unknown. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(message: string, readonly reason: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** libvirtd sent something this client cannot read. The connection is dropped. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}
