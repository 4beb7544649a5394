/**
 * An undici connector that trusts a hypervisor API's certificate the way a Provider asks: a custom
 * CA (the chain must verify and name the host), or a pinned certificate fingerprint (self-signed
 * vCenter and PVE certificates: the fingerprint decides, the chain is not checked), or the system's
 * CAs; no verification only when the Provider says insecureSkipVerify.
 */
import type { TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';

export interface ConnectorTrust {
  ca?: string;
  /** The pinned certificate's fingerprint as `hexFingerprint` gives it: SHA-256 (64 hex digits) or SHA-1 (40). */
  pinned?: string;
  insecureSkipVerify: boolean;
  timeoutMs: number;
}

/** "AB:cd:…", "sha256:…" or "abcd…" → "abcd…" (lowercase hex; the caller checks the length it accepts). */
export function hexFingerprint(value: string): string {
  return value.trim().replace(/^sha(256|1)[:=]?\s*/i, '').replace(/[:\s]/g, '').toLowerCase();
}

/** The fingerprint of the certificate `socket` was given, of the same kind (length) as `pinned`. */
function presented(socket: TLSSocket, pinned: string): string {
  const cert = socket.getPeerCertificate?.();
  const fp = pinned.length === 64 ? cert?.fingerprint256 : cert?.fingerprint;
  return fp ? hexFingerprint(fp) : '';
}

/**
 * The connector; `mismatch` builds the error for a certificate whose fingerprint is not the pinned
 * one (each agent names its API and its credential key).
 */
export function trustConnector(trust: ConnectorTrust, mismatch: (where: string, got: string) => Error): buildConnector.connector {
  const pinned = trust.insecureSkipVerify || trust.ca ? undefined : trust.pinned;
  const base = buildConnector({
    timeout: trust.timeoutMs,
    keepAlive: true,
    ...(trust.ca ? { ca: trust.ca } : {}),
    rejectUnauthorized: !(trust.insecureSkipVerify || pinned),
    // A resumed session has no fresh handshake to check the pin against.
    maxCachedSessions: pinned ? 0 : 100,
  });
  if (!pinned) return base;
  return (options, callback) => {
    base(options, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('no socket'), null);
        return;
      }
      const got = presented(socket as TLSSocket, pinned);
      if (got !== pinned) {
        socket.destroy();
        callback(mismatch(`${options.hostname}:${options.port}`, got), null);
        return;
      }
      callback(null, socket);
    });
  };
}
