/**
 * PropertyCollector requests and replies: filter specs (a ContainerView traversal or single
 * objects), RetrievePropertiesEx with its continuation token, and the UpdateSets of
 * WaitForUpdatesEx decoded into plain changes.
 */
import { decodeMoRef, ref, type CallOptions, type MoRef, type VimClient } from '../soap/client.ts';
import { child, children, textOf, type XmlInObject, type XmlNode } from '../soap/xml.ts';
import { TransportError } from '../soap/faults.ts';

export interface PropertySet {
  type: string;
  paths: readonly string[];
}

/** A filter spec over the objects of a ContainerView (the view itself skipped). */
export function viewFilterSpec(view: MoRef, props: readonly PropertySet[]): XmlInObject {
  return {
    propSet: props.map((p) => ({ type: p.type, all: false, pathSet: [...p.paths] })),
    objectSet: [{
      obj: ref(view),
      skip: true,
      selectSet: [{ '@_xsi:type': 'TraversalSpec', name: 'traverseView', type: 'ContainerView', path: 'view', skip: false }],
    }],
  };
}

/**
 * A filter spec over every VM below `root`: folders' children, datacenters' VM folders, vApps' VMs.
 * (A traversal rather than a ContainerView: vcsim 0.46 deadlocks when a ContainerView-based filter
 * is refreshed while concurrent clones hold their source VM; vCenter serves both alike.)
 */
export function vmTraversalSpec(root: MoRef, props: readonly PropertySet[]): XmlInObject {
  const sel = (name: string) => ({ '@_xsi:type': 'SelectionSpec', name });
  return {
    propSet: props.map((p) => ({ type: p.type, all: false, pathSet: [...p.paths] })),
    objectSet: [{
      obj: ref(root),
      skip: true,
      selectSet: [
        { '@_xsi:type': 'TraversalSpec', name: 'folderChildren', type: 'Folder', path: 'childEntity', skip: false, selectSet: [sel('folderChildren'), sel('datacenterVms'), sel('vappVms')] },
        { '@_xsi:type': 'TraversalSpec', name: 'datacenterVms', type: 'Datacenter', path: 'vmFolder', skip: false, selectSet: [sel('folderChildren')] },
        { '@_xsi:type': 'TraversalSpec', name: 'vappVms', type: 'VirtualApp', path: 'vm', skip: false },
      ],
    }],
  };
}

/** A filter spec over the given objects. */
export function objectsFilterSpec(objs: readonly MoRef[], props: readonly PropertySet[]): XmlInObject {
  return {
    propSet: props.map((p) => ({ type: p.type, all: false, pathSet: [...p.paths] })),
    objectSet: objs.map((o) => ({ obj: ref(o), skip: false })),
  };
}

export interface ObjectProps {
  obj: MoRef;
  props: Map<string, XmlNode>;
  /** Paths the collector could not read (with the fault's type). */
  missing: Map<string, string>;
}

function decodeObjectContent(node: XmlNode): ObjectProps {
  const props = new Map<string, XmlNode>();
  for (const p of children(node, 'propSet')) {
    const name = textOf(child(p, 'name'));
    const val = child(p, 'val');
    if (name && val !== undefined) props.set(name, val);
  }
  const missing = new Map<string, string>();
  for (const m of children(node, 'missingSet')) {
    const path = textOf(child(m, 'path'));
    const fault = child(child(m, 'fault'), 'fault');
    if (path) missing.set(path, (typeof fault === 'object' && (fault['@_xsi:type'] as string)) || 'unknown');
  }
  return { obj: decodeMoRef(child(node, 'obj'), 'ObjectContent.obj'), props, missing };
}

/** RetrievePropertiesEx, following the continuation token to the end. */
export async function retrieveProperties(client: VimClient, collector: MoRef, spec: XmlInObject, opts: CallOptions = {}): Promise<ObjectProps[]> {
  const out: ObjectProps[] = [];
  let [result] = await client.call('RetrievePropertiesEx', { _this: ref(collector), specSet: [spec], options: { maxObjects: 500 } }, opts);
  for (;;) {
    for (const o of children(result, 'objects')) out.push(decodeObjectContent(o));
    const token = textOf(child(result, 'token'));
    if (!token) return out;
    [result] = await client.call('ContinueRetrievePropertiesEx', { _this: ref(collector), token }, opts);
  }
}

/**
 * The properties of one object. An object that no longer exists is a ManagedObjectNotFound fault
 * (vCenter's answer; vcsim's too); an empty result is a malformed reply, never taken for "gone".
 */
export async function retrieveOne(client: VimClient, obj: MoRef, paths: readonly string[], opts: CallOptions = {}): Promise<Map<string, XmlNode>> {
  const [found] = await retrieveProperties(client, client.serviceContent.propertyCollector, objectsFilterSpec([obj], [{ type: obj.type, paths }]), opts);
  if (!found) {
    throw new TransportError(`RetrievePropertiesEx returned no object for ${obj.type}:${obj.value} and no fault`, 'malformed');
  }
  return found.props;
}

export interface PropertyChange {
  name: string;
  op: 'add' | 'remove' | 'assign' | 'indirectRemove';
  val: XmlNode | undefined;
}

export interface ObjectUpdate {
  kind: 'enter' | 'modify' | 'leave';
  obj: MoRef;
  changes: PropertyChange[];
}

export interface FilterUpdate {
  filter: MoRef;
  objects: ObjectUpdate[];
}

export interface UpdateSet {
  version: string;
  truncated: boolean;
  filters: FilterUpdate[];
}

export function decodeUpdateSet(node: XmlNode | undefined): UpdateSet | undefined {
  if (node === undefined) return undefined;
  const version = textOf(child(node, 'version')) ?? '';
  return {
    version,
    truncated: textOf(child(node, 'truncated')) === 'true',
    filters: children(node, 'filterSet').map((f) => ({
      filter: decodeMoRef(child(f, 'filter'), 'PropertyFilterUpdate.filter'),
      objects: children(f, 'objectSet').map((o) => ({
        kind: (textOf(child(o, 'kind')) ?? 'modify') as ObjectUpdate['kind'],
        obj: decodeMoRef(child(o, 'obj'), 'ObjectUpdate.obj'),
        changes: children(o, 'changeSet').map((c) => ({
          name: textOf(child(c, 'name')) ?? '',
          op: (textOf(child(c, 'op')) ?? 'assign') as PropertyChange['op'],
          val: child(c, 'val'),
        })),
      })),
    })),
  };
}

// --- scalar decoders shared by the typed readers ---

export function str(node: XmlNode | undefined): string | undefined {
  return textOf(node);
}

export function int(node: XmlNode | undefined): number | undefined {
  const t = textOf(node);
  if (t === undefined || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

export function bool(node: XmlNode | undefined): boolean | undefined {
  const t = textOf(node);
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

/** The items of an ArrayOfX value (`<val xsi:type="ArrayOfX"><X>…</X><X>…</X></val>`). */
export function arrayItems(node: XmlNode | undefined, itemName: string): XmlNode[] {
  return children(node, itemName);
}
