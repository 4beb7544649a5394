/**
 * The serving certificate and key, read from files and re-read when they change (cert-manager
 * and kubelet rotate them in place: a Secret volume swaps a `..data` symlink in the directory).
 * A new pair is taken only when it loads and matches; a half-written pair keeps the old one.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { TlsLoadError } from './errors.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks the pair (a key that does not match its certificate fails here). */
export function loadTlsPair(files: TlsFiles): TlsPair {
  try {
    const pair = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
    createSecureContext(pair);
    return pair;
  } catch (err) {
    throw new TlsLoadError(files.certFile, files.keyFile, { cause: err });
  }
}

export interface TlsWatchOptions {
  /** A new, valid pair was read. */
  onChange: (pair: TlsPair) => void;
  /** The files changed but do not load (yet); the old pair stays in use. */
  onError: (err: TlsLoadError) => void;
  /** Wait this long after a file event before reading (writers touch cert and key one after the other). */
  debounceMs?: number;
  /** Re-read this often as well, for file systems whose events do not arrive. */
  pollMs?: number;
}

export interface TlsWatcher {
  /** Re-reads now; true when a new pair was taken. */
  check(): boolean;
  close(): void;
}

export const DEFAULT_TLS_DEBOUNCE_MS = 100;
export const DEFAULT_TLS_POLL_MS = 10_000;

export function watchTlsFiles(files: TlsFiles, current: TlsPair, opts: TlsWatchOptions): TlsWatcher {
  let loaded = current;
  let lastError: string | undefined;
  const check = (): boolean => {
    let pair: TlsPair;
    try {
      pair = loadTlsPair(files);
    } catch (err) {
      const e = err as TlsLoadError;
      // Report a given failure once, not on every poll.
      if (e.message !== lastError) opts.onError(e);
      lastError = e.message;
      return false;
    }
    lastError = undefined;
    if (pair.cert.equals(loaded.cert) && pair.key.equals(loaded.key)) return false;
    loaded = pair;
    opts.onChange(pair);
    return true;
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      check();
    }, opts.debounceMs ?? DEFAULT_TLS_DEBOUNCE_MS);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(files.certFile), dirname(files.keyFile)])) {
    try {
      const w = watch(dir, { persistent: false }, schedule);
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // No file events here (the directory may not be watchable): the poll still sees changes.
    }
  }
  const poll = setInterval(check, opts.pollMs ?? DEFAULT_TLS_POLL_MS);
  poll.unref();
  return {
    check,
    close() {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
