/**
 * How the agent trusts the Proxmox API's certificate, in order of preference:
 *   1. `ca.crt` in the credential Secret: the certificate must chain to it (and name the host);
 *   2. `thumbprint`: the server's certificate must have exactly that SHA-256 fingerprint (PVE's own
 *      self-signed certificates: Datacenter → node → Certificates shows the fingerprint);
 *   3. neither: the system's CAs;
 *   `insecureSkipVerify` disables every check (the Provider says so explicitly).
 */
import type { buildConnector } from 'undici';
import { hexFingerprint, trustConnector as sharedTrustConnector } from '../core/pinned-tls.ts';

export interface TlsTrust {
  /** PEM of the CA that signs the API's certificate. */
  ca?: string;
  /** SHA-256 fingerprint of the API's certificate, hex with or without colons. */
  fingerprint?: string;
  insecureSkipVerify: boolean;
}

/** "AB:cd:…" or "abcd…" → "abcd…"; undefined when it is not a SHA-256 fingerprint. */
export function normalizeFingerprint(value: string): string | undefined {
  const hex = hexFingerprint(value);
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

export class CertificatePinError extends Error {
  override readonly name = 'CertificatePinError';
  readonly code = 'ERR_CERT_PIN_MISMATCH';
}

/** An undici connector enforcing the trust above; connection options are shared by every socket. */
export function trustConnector(trust: TlsTrust, timeoutMs: number): buildConnector.connector {
  const pinned = trust.fingerprint !== undefined && !trust.ca && !trust.insecureSkipVerify ? normalizeFingerprint(trust.fingerprint) : undefined;
  if (trust.fingerprint !== undefined && !trust.ca && !trust.insecureSkipVerify && !pinned) {
    throw new Error('the credential key "thumbprint" is not a SHA-256 fingerprint (64 hex digits, colons allowed)');
  }
  return sharedTrustConnector({ ca: trust.ca, pinned, insecureSkipVerify: trust.insecureSkipVerify, timeoutMs }, (where, got) =>
    new CertificatePinError(`the Proxmox API at ${where} presented a certificate with SHA-256 fingerprint ${got || 'none'}, `
      + 'not the one pinned in the credential key "thumbprint"'));
}
