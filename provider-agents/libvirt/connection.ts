/**
 * The agent's one long-lived connection to libvirtd. It connects in the background, reconnects
 * with exponential backoff (jittered) whenever the connection drops or keepalive finds libvirtd
 * silent, and after every (re)connect registers the domain event callbacks again and tells its
 * listeners, so the driver can rebuild what it derived from events.
 *
 * A call made while disconnected waits a short while for the connection, then fails with a
 * ConnectionError naming the endpoint and the last reason; the caller turns that into a retry.
 */
import type { Credentials } from '../core/connection.ts';
import type { Logger } from '../core/log.ts';
import { RpcClient, type CallOptions } from './rpc/client.ts';
import { ConnectionError, LibvirtError } from './rpc/errors.ts';
import {
  AUTH_NONE, AUTH_POLKIT, AUTH_SASL, DomainEventId, EVENT_PROC_LIFECYCLE, EVENT_PROC_METADATA_CHANGE, P, VIR_DRV_FEATURE_PROGRAM_KEEPALIVE,
  readLifecycleEvent, readMetadataChangeEvent, type LifecycleEvent, type MetadataChangeEvent, type Procedure,
} from './rpc/protocol.ts';
import { openTransport, type OpenTransport } from './rpc/transport.ts';
import type { LibvirtUri } from './rpc/uri.ts';

export interface ConnectionOptions {
  uri: LibvirtUri;
  credentials: Credentials;
  insecureSkipVerify: boolean;
  log: Logger;
  connectTimeoutMs?: number;
  /** How long a call waits for a (re)connection before failing (ms, default 5000). */
  callWaitMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCount?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export type DomainEvent =
  | { kind: 'lifecycle'; event: LifecycleEvent }
  | { kind: 'metadata'; event: MetadataChangeEvent };

interface Waiter {
  resolve: (c: RpcClient) => void;
  reject: (e: Error) => void;
}

export class LibvirtConnection {
  private client: RpcClient | undefined;
  private transport: OpenTransport | undefined;
  private waiters: Waiter[] = [];
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private nextRetryAt = 0;
  private connecting: Promise<void> | undefined;
  private readonly eventListeners = new Set<(e: DomainEvent) => void>();
  private readonly connectListeners = new Set<(generation: number) => void>();
  /** Failures since the last successful connect, and the last one. */
  lastError: ConnectionError | undefined;
  /** Increases with every successful connect: state derived from an older one is stale. */
  generation = 0;
  /** libvirtd's hypervisor version, from the last connect (e.g. "7.2.0"). */
  hypervisorVersion = '';

  private constructor(private readonly opts: ConnectionOptions) {}

  /** Starts connecting; returns at once. `ready()` waits for the first connection. */
  static start(opts: ConnectionOptions): LibvirtConnection {
    const c = new LibvirtConnection(opts);
    c.connectNow();
    return c;
  }

  get uri(): LibvirtUri {
    return this.opts.uri;
  }

  get connected(): boolean {
    return this.client !== undefined && !this.client.closed;
  }

  /** Resolves once connected; fails after `waitMs` with the reason the connection is not there. */
  async ready(waitMs = this.opts.callWaitMs ?? 5000): Promise<RpcClient> {
    if (this.client && !this.client.closed) return this.client;
    if (this.stopped) throw new ConnectionError(`the connection to ${this.opts.uri.display} is closed`, 'ConnectionClosed');
    // A caller that waits is a reason to try again now rather than after a long backoff.
    if (!this.connecting && this.retryTimer && this.nextRetryAt - Date.now() > waitMs) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.connectNow();
    }
    return new Promise<RpcClient>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (client) => {
          clearTimeout(timer);
          resolve(client);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(this.unreachableError());
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  async call<A, R>(proc: Procedure<A, R>, args: A, opts?: CallOptions): Promise<R> {
    const client = await this.ready();
    return client.call(proc, args, opts);
  }

  async upload<A>(proc: Procedure<A, void>, args: A, data: AsyncIterable<Uint8Array>, opts?: CallOptions): Promise<void> {
    const client = await this.ready();
    return client.upload(proc, args, data, opts);
  }

  onEvent(listener: (e: DomainEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called after every successful (re)connect, once event callbacks are registered. */
  onConnected(listener: (generation: number) => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    for (const w of this.waiters) w.reject(new ConnectionError(`the connection to ${this.opts.uri.display} was closed`, 'ConnectionClosed'));
    this.waiters = [];
    if (client && !client.closed) {
      await client.call(P.connectClose, undefined, { timeoutMs: 2000 }).catch(() => undefined);
      client.destroy();
    }
    this.transport?.close();
  }

  /** Drops the current connection as if the network failed (tests of the reconnect path). */
  dropForTest(): void {
    this.client?.destroy('dropped on purpose');
  }

  private unreachableError(): ConnectionError {
    const last = this.lastError;
    const retry = this.nextRetryAt > Date.now() ? `; next attempt in ${Math.ceil((this.nextRetryAt - Date.now()) / 1000)} s` : '';
    const why = last ? last.message : 'still connecting';
    return new ConnectionError(`libvirtd at ${this.opts.uri.display} is not reachable (attempt ${Math.max(this.attempt, 1)}): ${why}${retry}`, last?.reason ?? 'ProviderUnreachable', { cause: last });
  }

  private connectNow(): void {
    if (this.stopped || this.connecting) return;
    this.connecting = this.connectOnce().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connectOnce(): Promise<void> {
    this.attempt++;
    let transport: OpenTransport | undefined;
    let client: RpcClient | undefined;
    try {
      transport = await openTransport(this.opts.uri, {
        credentials: this.opts.credentials,
        insecureSkipVerify: this.opts.insecureSkipVerify,
        connectTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
      });
      client = new RpcClient(transport.stream, {
        peer: this.opts.uri.display,
        keepaliveIntervalMs: this.opts.keepaliveIntervalMs,
        keepaliveCount: this.opts.keepaliveCount,
      });
      await this.handshake(client);
    } catch (err) {
      client?.destroy();
      transport?.close();
      if (this.stopped) return;
      this.lastError = err instanceof ConnectionError ? err
        : err instanceof LibvirtError ? new ConnectionError(`libvirtd at ${this.opts.uri.display} refused the connection: ${err.message}`, err.code === 45 ? 'AuthenticationFailed' : 'ProviderUnreachable', { cause: err })
          : new ConnectionError(`connecting to libvirtd at ${this.opts.uri.display} failed: ${(err as Error).message}`, 'ProviderUnreachable', { cause: err });
      this.scheduleRetry();
      // Callers waiting for this attempt learn at once why it failed (they retry with their own backoff).
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.reject(this.unreachableError());
      return;
    }
    if (this.stopped) {
      client.destroy();
      transport.close();
      return;
    }
    this.client = client;
    this.transport = transport;
    this.generation++;
    if (this.attempt > 1 || this.lastError) this.opts.log.info('libvirt connection established', { uri: this.opts.uri.display, attempts: this.attempt });
    this.attempt = 0;
    this.lastError = undefined;
    client.onClose((err) => this.lost(client!, err));
    for (const listener of this.connectListeners) {
      try {
        listener(this.generation);
      } catch (err) {
        this.opts.log.warn('libvirt connect listener failed', { err });
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(client);
  }

  /** Auth check, ConnectOpen, keepalive negotiation and the domain event callbacks. */
  private async handshake(client: RpcClient): Promise<void> {
    const uri = this.opts.uri;
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    const auth = await client.call(P.authList, undefined, { timeoutMs });
    if (auth.length > 0 && !auth.includes(AUTH_NONE)) {
      const names = auth.map((a) => (a === AUTH_SASL ? 'SASL' : a === AUTH_POLKIT ? 'polkit' : `type ${a}`)).join(', ');
      throw new ConnectionError(
        `libvirtd at ${uri.display} requires ${names} authentication, which this agent does not do; use qemu+ssh:// (key or password), `
        + 'qemu+tls:// with a client certificate, or set the listener\'s auth to "none"', 'AuthenticationRequired');
    }
    await client.call(P.connectOpen, { name: uri.remoteName, flags: 0 }, { timeoutMs });
    // Asking about the keepalive feature makes libvirtd ping us too (both sides detect a dead peer).
    await client.call(P.connectSupportsFeature, { feature: VIR_DRV_FEATURE_PROGRAM_KEEPALIVE }, { timeoutMs }).catch(() => false);
    const version = await client.call(P.connectGetVersion, undefined, { timeoutMs }).catch(() => 0n);
    this.hypervisorVersion = `${version / 1000000n}.${(version / 1000n) % 1000n}.${version % 1000n}`;
    client.onEvent((proc, body) => {
      try {
        if (proc === EVENT_PROC_LIFECYCLE) this.emit({ kind: 'lifecycle', event: readLifecycleEvent(body) });
        else if (proc === EVENT_PROC_METADATA_CHANGE) this.emit({ kind: 'metadata', event: readMetadataChangeEvent(body) });
      } catch (err) {
        this.opts.log.warn('libvirt event not readable; ignored', { proc, err });
      }
    });
    await client.call(P.connectDomainEventCallbackRegisterAny, { eventId: DomainEventId.Lifecycle, dom: undefined }, { timeoutMs });
    // Metadata events keep the uid index right when another agent adopts or releases a domain (libvirt ≥ 3.0).
    await client.call(P.connectDomainEventCallbackRegisterAny, { eventId: DomainEventId.MetadataChange, dom: undefined }, { timeoutMs })
      .catch((err) => this.opts.log.debug('metadata change events unavailable', { err }));
  }

  private emit(e: DomainEvent): void {
    for (const listener of this.eventListeners) {
      try {
        listener(e);
      } catch (err) {
        this.opts.log.warn('libvirt event listener failed', { err });
      }
    }
  }

  private lost(client: RpcClient, err: ConnectionError): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.transport?.close();
    this.transport = undefined;
    if (this.stopped) return;
    this.lastError = err;
    this.opts.log.warn('libvirt connection lost; reconnecting', { uri: this.opts.uri.display, reason: err.reason, error: err.message });
    this.connectNow();
  }

  private scheduleRetry(): void {
    const initial = this.opts.backoffInitialMs ?? 250;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.attempt - 1, 20));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.nextRetryAt = Date.now() + delay;
    const level = this.attempt === 1 || this.attempt % 10 === 0 ? 'warn' : 'debug';
    this.opts.log[level]('libvirt connection failed; retrying', {
      uri: this.opts.uri.display, attempt: this.attempt, retryInMs: delay, reason: this.lastError?.reason, error: this.lastError?.message,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connectNow();
    }, delay);
    this.retryTimer.unref();
  }
}
