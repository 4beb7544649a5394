/**
 * The vim25 SOAP client: one session per agent replica (Login with the credential Secret's
 * `username`/`password`, the `vmware_soap_session` cookie), a keepalive when idle, and one re-login
 * when vCenter answers NotAuthenticated (session expired or terminated). Session-scoped objects
 * (property collectors, views, filters) die with a session: `onSessionRenewed` tells their owners.
 *
 * Counts every call (total and per method) and every session opened, for the benchmark and tests.
 */
import type { Logger } from '../../core/log.ts';
import { faultFromSoap, isFault, TransportError, VimFault } from './faults.ts';
import type { HttpTransport } from './transport.ts';
import { buildEnvelope, child, childByLocalName, children, MalformedReplyError, parseXml, textOf, type XmlInObject, type XmlNode } from './xml.ts';

export interface MoRef {
  type: string;
  value: string;
}

/** A managed object reference as a request element. */
export function ref(r: MoRef): XmlInObject {
  return { '@_type': r.type, '#text': r.value };
}

export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  searchIndex: MoRef;
  ovfManager?: MoRef;
  storageResourceManager?: MoRef;
  taskManager?: MoRef;
  about: { fullName: string; apiVersion: string; apiType: string; instanceUuid: string };
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Reply deadline (long polls). */
  timeoutMs?: number;
}

export interface VimClientOptions {
  /** https://host[:port]/sdk */
  url: URL;
  username: string;
  password: string;
  transport: HttpTransport;
  /** Call CurrentTime when no call was made for this long (default 5 min; 0: never). */
  keepaliveMs?: number;
  log?: Logger;
}

const SESSION_COOKIE = 'vmware_soap_session';

export function decodeMoRef(node: XmlNode | undefined, what: string): MoRef {
  const value = textOf(node);
  const type = typeof node === 'object' ? (node['@_type'] as string | undefined) : undefined;
  if (!value || !type) throw new MalformedReplyError(`expected a managed object reference for ${what}, got ${JSON.stringify(node)}`);
  return { type, value };
}

function decodeServiceContent(node: XmlNode | undefined): ServiceContent {
  const opt = (name: string) => (child(node, name) === undefined ? undefined : decodeMoRef(child(node, name), `ServiceContent.${name}`));
  const about = child(node, 'about');
  return {
    rootFolder: decodeMoRef(child(node, 'rootFolder'), 'ServiceContent.rootFolder'),
    propertyCollector: decodeMoRef(child(node, 'propertyCollector'), 'ServiceContent.propertyCollector'),
    viewManager: decodeMoRef(child(node, 'viewManager'), 'ServiceContent.viewManager'),
    sessionManager: decodeMoRef(child(node, 'sessionManager'), 'ServiceContent.sessionManager'),
    searchIndex: decodeMoRef(child(node, 'searchIndex'), 'ServiceContent.searchIndex'),
    ovfManager: opt('ovfManager'),
    storageResourceManager: opt('storageResourceManager'),
    taskManager: opt('taskManager'),
    about: {
      fullName: textOf(child(about, 'fullName')) ?? '',
      apiVersion: textOf(child(about, 'apiVersion')) ?? '',
      apiType: textOf(child(about, 'apiType')) ?? '',
      instanceUuid: textOf(child(about, 'instanceUuid')) ?? '',
    },
  };
}

export class VimClient {
  readonly stats = { calls: 0, byMethod: new Map<string, number>(), sessionsOpened: 0 };
  serviceContent!: ServiceContent;
  /** The session key vCenter gave this client (for tests that terminate it). */
  sessionKey: string | undefined;
  private cookie: string | undefined;
  private soapAction = 'urn:vim25';
  private login: Promise<void> | undefined;
  /** Increments with every login: a call that failed on an older session just retries. */
  private epoch = 0;
  private readonly renewListeners = new Set<() => void>();
  private keepalive: NodeJS.Timeout | undefined;
  private lastCallAt = Date.now();
  private closed = false;

  private constructor(private readonly opts: VimClientOptions) {}

  /** Reads the service content, negotiates the API version and logs in. */
  static async connect(opts: VimClientOptions): Promise<VimClient> {
    const c = new VimClient(opts);
    const [content] = await c.send('RetrieveServiceContent', { _this: ref({ type: 'ServiceInstance', value: 'ServiceInstance' }) });
    c.serviceContent = decodeServiceContent(content);
    if (c.serviceContent.about.apiVersion) c.soapAction = `urn:vim25/${c.serviceContent.about.apiVersion}`;
    await c.relogin(0);
    const every = opts.keepaliveMs ?? 300_000;
    if (every > 0) {
      c.keepalive = setInterval(() => void c.keepAlive(every), Math.max(1000, Math.floor(every / 2)));
      c.keepalive.unref();
    }
    return c;
  }

  get sessionEpoch(): number {
    return this.epoch;
  }

  /** Called after a re-login: session-scoped objects (collectors, views, filters) must be made again. */
  onSessionRenewed(fn: () => void): () => void {
    this.renewListeners.add(fn);
    return () => this.renewListeners.delete(fn);
  }

  /**
   * Calls a vim25 method; `body` holds `_this` and the arguments in WSDL order. Returns the
   * `returnval` elements (none for void methods). Faults throw VimFault; the endpoint's failures
   * throw TransportError. NotAuthenticated logs in again once and retries.
   */
  async call(method: string, body: XmlInObject, opts: CallOptions = {}): Promise<XmlNode[]> {
    if (this.closed) throw new TransportError(`the vSphere client is closed; ${method} not sent`, 'network');
    if (this.login) await this.login;
    const epoch = this.epoch;
    try {
      return await this.send(method, body, opts);
    } catch (err) {
      if (!isFault(err, 'NotAuthenticated') || this.closed) throw err;
      await this.relogin(epoch);
      return this.send(method, body, opts);
    }
  }

  /** Logs in unless someone already did since `seenEpoch` (single flight). */
  private relogin(seenEpoch: number): Promise<void> {
    if (this.epoch !== seenEpoch) return this.login ?? Promise.resolve();
    if (!this.login) {
      this.login = (async () => {
        this.cookie = undefined;
        const [session] = await this.send('Login', {
          _this: ref(this.serviceContent.sessionManager),
          userName: this.opts.username,
          password: this.opts.password,
        });
        this.sessionKey = textOf(child(session, 'key'));
        this.stats.sessionsOpened++;
        this.epoch++;
        const renewed = this.epoch > 1;
        this.opts.log?.info(renewed ? 'vSphere session renewed' : 'vSphere session opened', { endpoint: this.opts.url.origin, sessions: this.stats.sessionsOpened });
        if (renewed) for (const fn of this.renewListeners) fn();
      })().finally(() => {
        this.login = undefined;
      });
    }
    return this.login;
  }

  private async keepAlive(everyMs: number): Promise<void> {
    if (this.closed || this.login || Date.now() - this.lastCallAt < everyMs) return;
    try {
      await this.call('CurrentTime', { _this: ref({ type: 'ServiceInstance', value: 'ServiceInstance' }) });
    } catch (err) {
      this.opts.log?.warn('vSphere keepalive failed', { endpoint: this.opts.url.origin, err });
    }
  }

  private async send(method: string, body: XmlInObject, opts: CallOptions = {}): Promise<XmlNode[]> {
    this.stats.calls++;
    this.stats.byMethod.set(method, (this.stats.byMethod.get(method) ?? 0) + 1);
    this.lastCallAt = Date.now();
    const headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8', soapaction: this.soapAction };
    if (this.cookie) headers.cookie = this.cookie;
    let reply;
    try {
      reply = await this.opts.transport.send({
        path: this.opts.url.pathname + this.opts.url.search,
        method: 'POST',
        headers,
        body: buildEnvelope(method, body),
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
      });
    } catch (err) {
      if (err instanceof TransportError) throw new TransportError(`calling ${method}: ${err.message}`, err.kind, { cause: err });
      throw err;
    }
    if (method === 'Login') this.cookie = sessionCookie(reply.headers['set-cookie']) ?? this.cookie;
    if (reply.status !== 200 && reply.status !== 500) {
      throw new TransportError(`vSphere answered ${method} with HTTP ${reply.status} (expected 200 or a SOAP fault); is ${this.opts.url.href} the /sdk endpoint?`, 'http');
    }
    let envelope;
    try {
      envelope = parseXml(reply.text);
    } catch (err) {
      throw new TransportError(`vSphere's reply to ${method} (HTTP ${reply.status}) is not XML: ${(err as Error).message}`, 'malformed', { cause: err });
    }
    const soapBody = childByLocalName(childByLocalName(envelope, 'Envelope'), 'Body');
    if (soapBody === undefined) throw new TransportError(`vSphere's reply to ${method} (HTTP ${reply.status}) has no SOAP body`, 'malformed');
    const fault = childByLocalName(soapBody, 'Fault');
    if (fault !== undefined) throw faultFromSoap(fault, method);
    const response = childByLocalName(soapBody, `${method}Response`);
    if (response === undefined) throw new TransportError(`vSphere's reply to ${method} has no ${method}Response element`, 'malformed');
    return children(response, 'returnval');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.keepalive) clearInterval(this.keepalive);
    try {
      if (this.cookie) await this.send('Logout', { _this: ref(this.serviceContent.sessionManager) }, { timeoutMs: 5000 });
    } catch {
      // The session expires on its own.
    }
    this.closed = true;
    await this.opts.transport.close();
  }
}

/** `vmware_soap_session=…` from the Login reply's Set-Cookie header. */
function sessionCookie(header: string | string[] | undefined): string | undefined {
  for (const line of Array.isArray(header) ? header : header ? [header] : []) {
    const first = line.split(';')[0]!.trim();
    if (first.startsWith(`${SESSION_COOKIE}=`)) return first;
  }
  return undefined;
}

export { VimFault };
