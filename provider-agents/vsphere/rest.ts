/**
 * The vSphere Automation REST API, for what SOAP has no equivalent of: tags and the content library.
 * Its session is separate from the SOAP one (vAPI sessions are their own); it is opened on first use
 * (one per agent), sent as `vmware-api-session-id`, and opened again once when vCenter answers 401.
 *
 * Paths are the `/rest/com/vmware/...` form, which vCenter 6.5–8 serves and govmomi's vcsim
 * implements (the newer `/api/...` form is not in vcsim 0.46).
 */
import { PermanentError, TransientError } from '../core/errors.ts';
import { TransportError } from './soap/faults.ts';
import type { HttpTransport } from './soap/transport.ts';

export interface Tag {
  id: string;
  name: string;
  categoryId: string;
}

export interface LibraryItem {
  id: string;
  name: string;
  /** `ovf` or `vm-template`. */
  type: string;
  contentVersion: string;
}

export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export class RestClient {
  readonly stats = { calls: 0, sessionsOpened: 0 };
  private session: string | undefined;
  private login: Promise<void> | undefined;

  constructor(private readonly transport: HttpTransport, private readonly username: string, private readonly password: string) {}

  private async openSession(): Promise<void> {
    this.login ??= (async () => {
      const auth = Buffer.from(`${this.username}:${this.password}`).toString('base64');
      const res = await this.transport.send({ path: '/rest/com/vmware/cis/session', method: 'POST', headers: { authorization: `Basic ${auth}` } });
      this.stats.calls++;
      if (res.status === 401 || res.status === 403) {
        throw new PermanentError('the vSphere REST API refused the login with the Provider\'s credential Secret (keys username, password)', { reason: 'InvalidCredentials' });
      }
      const id = this.parse(res.text, res.status, 'POST /rest/com/vmware/cis/session');
      if (typeof id !== 'string' || !id) throw new TransientError('the vSphere REST API returned no session id', { reason: 'MalformedReply' });
      this.session = id;
      this.stats.sessionsOpened++;
    })().finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  private parse(text: string, status: number, what: string): unknown {
    let body: { value?: unknown; type?: string; messages?: unknown };
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      throw new TransientError(`${what}: vSphere answered HTTP ${status} with a body that is not JSON`, { reason: 'MalformedReply' });
    }
    if (status >= 400) {
      const kind = body.type ?? (body.value as { type?: string } | undefined)?.type ?? '';
      throw new RestError(`${what}: vSphere answered HTTP ${status}${kind ? ` (${kind})` : ''}`, status);
    }
    return body.value;
  }

  /** Calls `path` (below /rest) with a JSON body; returns the reply's `value`. */
  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    if (!this.session) await this.openSession();
    for (let attempt = 0; ; attempt++) {
      const sent = this.session;
      this.stats.calls++;
      const res = await this.transport.send({
        path: `/rest${path}`,
        method,
        headers: { 'vmware-api-session-id': sent ?? '', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status === 401 && attempt === 0) {
        if (this.session === sent) this.session = undefined;
        await this.openSession();
        continue;
      }
      return this.parse(res.text, res.status, `${method} /rest${path.split('?')[0]}`);
    }
  }

  // --- tagging ---

  async listTags(): Promise<Tag[]> {
    const ids = (await this.call('GET', '/com/vmware/cis/tagging/tag')) as string[] | undefined;
    const out: Tag[] = [];
    for (const id of ids ?? []) {
      const t = (await this.call('GET', `/com/vmware/cis/tagging/tag/id:${encodeURIComponent(id)}`)) as { name?: string; category_id?: string };
      out.push({ id, name: t?.name ?? '', categoryId: t?.category_id ?? '' });
    }
    return out;
  }

  async categoryName(id: string): Promise<string> {
    const c = (await this.call('GET', `/com/vmware/cis/tagging/category/id:${encodeURIComponent(id)}`)) as { name?: string };
    return c?.name ?? '';
  }

  async attachedTags(obj: { type: string; value: string }): Promise<string[]> {
    const ids = await this.call('POST', '/com/vmware/cis/tagging/tag-association?~action=list-attached-tags', { object_id: { type: obj.type, id: obj.value } });
    return (ids as string[] | undefined) ?? [];
  }

  async attachTag(tagId: string, obj: { type: string; value: string }): Promise<void> {
    await this.call('POST', `/com/vmware/cis/tagging/tag-association/id:${encodeURIComponent(tagId)}?~action=attach`, { object_id: { type: obj.type, id: obj.value } });
  }

  async detachTag(tagId: string, obj: { type: string; value: string }): Promise<void> {
    await this.call('POST', `/com/vmware/cis/tagging/tag-association/id:${encodeURIComponent(tagId)}?~action=detach`, { object_id: { type: obj.type, id: obj.value } });
  }

  // --- content library ---

  async findLibrary(name: string): Promise<string | undefined> {
    const ids = (await this.call('POST', '/com/vmware/content/library?~action=find', { spec: { name } })) as string[] | undefined;
    if ((ids?.length ?? 0) > 1) throw new PermanentError(`content library "${name}" is ambiguous: ${ids!.length} libraries have that name`, { reason: 'ImageAmbiguous' });
    return ids?.[0];
  }

  async findItem(libraryId: string, name: string): Promise<LibraryItem | undefined> {
    const ids = (await this.call('POST', '/com/vmware/content/library/item?~action=find', { spec: { library_id: libraryId, name } })) as string[] | undefined;
    const id = ids?.[0];
    if (!id) return undefined;
    const item = (await this.call('GET', `/com/vmware/content/library/item/id:${encodeURIComponent(id)}`)) as { name?: string; type?: string; content_version?: string };
    return { id, name: item?.name ?? name, type: item?.type ?? '', contentVersion: item?.content_version ?? '' };
  }

  /** Deploys an OVF item as a VM; returns the VM's managed object id. */
  async deployOvfItem(itemId: string, spec: { name: string; pool: string; folder: string; host?: string; datastore?: string }): Promise<string> {
    const res = (await this.call('POST', `/com/vmware/vcenter/ovf/library-item/id:${encodeURIComponent(itemId)}?~action=deploy`, {
      deployment_spec: { name: spec.name, accept_all_EULA: true, ...(spec.datastore ? { default_datastore_id: spec.datastore } : {}) },
      target: { resource_pool_id: spec.pool, folder_id: spec.folder, ...(spec.host ? { host_id: spec.host } : {}) },
    })) as { succeeded?: boolean; resource_id?: { id?: string }; error?: { errors?: { error?: { messages?: { default_message?: string }[] } }[] } } | undefined;
    if (!res?.succeeded || !res.resource_id?.id) {
      const msg = res?.error?.errors?.map((e) => e.error?.messages?.map((m) => m.default_message).join('; ')).join('; ') ?? 'no reason given';
      throw new PermanentError(`deploying content library item ${itemId} failed: ${msg}`, { reason: 'ImageDeployFailed' });
    }
    return res.resource_id.id;
  }

  /** Deploys a VM-template item as a VM; returns the VM's managed object id. */
  async deployTemplateItem(itemId: string, spec: { name: string; pool: string; folder: string; host?: string; datastore?: string }): Promise<string> {
    const id = await this.call('POST', `/vcenter/vm-template/library-items/${encodeURIComponent(itemId)}?action=deploy`, {
      spec: {
        name: spec.name,
        placement: { resource_pool: spec.pool, folder: spec.folder, ...(spec.host ? { host: spec.host } : {}) },
        ...(spec.datastore ? { disk_storage: { datastore: spec.datastore } } : {}),
        powered_on: false,
      },
    });
    if (typeof id !== 'string' || !id) throw new TransientError(`deploying VM template item ${itemId} returned no VM id`, { reason: 'MalformedReply' });
    return id;
  }

  async close(): Promise<void> {
    if (!this.session) return;
    await this.transport.send({ path: '/rest/com/vmware/cis/session', method: 'DELETE', headers: { 'vmware-api-session-id': this.session } }).catch(() => undefined);
    this.session = undefined;
  }
}

/** A REST failure as the agent sees it. */
export function restToAgentError(err: unknown, what: string): Error {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  if (err instanceof RestError) {
    return err.status >= 500 || err.status === 429
      ? new TransientError(`${what}: ${err.message}`, { reason: 'ProviderError', cause: err })
      : new PermanentError(`${what}: ${err.message}`, { reason: err.status === 404 ? 'NotFound' : 'InvalidSpec', cause: err });
  }
  if (err instanceof TransportError) return new TransientError(`${what}: ${err.message}`, { reason: 'ProviderUnreachable', cause: err });
  return new TransientError(`${what}: ${(err as Error).message}`, { reason: 'ProviderError', cause: err });
}
