/**
 * A small JSON differ: turns (original, mutated) into an RFC 6902 JSON Patch that the apiserver
 * applies to the original. Objects are diffed key by key, arrays index by index (surplus items
 * added at the end or removed from the end), anything else replaced whole.
 */

export type JsonPatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property's value; never one inherited (a JSON key `__proto__` or `constructor`). */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Sets an own property, also for the key `__proto__` (which plain assignment would turn into a prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** A deep copy of a JSON value (what JSON.parse produced: objects, arrays, primitives). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(out, key, cloneJson(value[key]));
    return out as T;
  }
  return value;
}

/** RFC 6901: `~` becomes `~0` and `/` becomes `~1` in a reference token. */
export function escapePointerToken(token: string): string {
  if (!token.includes('~') && !token.includes('/')) return token;
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function sameScalar(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * The operations that turn `from` into `to`. Keys whose value is `undefined` count as absent
 * (JSON.stringify drops them too). Values are copied, so later changes to `to` do not leak in.
 */
export function diffJson(from: unknown, to: unknown, path = ''): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  diffInto(from, to, path, ops);
  return ops;
}

function diffInto(from: unknown, to: unknown, path: string, ops: JsonPatchOperation[]): void {
  if (isPlainObject(from) && isPlainObject(to)) {
    for (const key of Object.keys(from)) {
      const before = own(from, key);
      if (before === undefined) continue;
      const after = own(to, key);
      const child = `${path}/${escapePointerToken(key)}`;
      if (after === undefined) ops.push({ op: 'remove', path: child });
      else diffInto(before, after, child, ops);
    }
    for (const key of Object.keys(to)) {
      const after = own(to, key);
      if (after === undefined || own(from, key) !== undefined) continue;
      ops.push({ op: 'add', path: `${path}/${escapePointerToken(key)}`, value: cloneJson(after) });
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) diffInto(from[i], to[i], `${path}/${i}`, ops);
    for (let i = common; i < to.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: cloneJson(to[i]) });
    // From the end, so each index is still valid when its removal applies.
    for (let i = from.length - 1; i >= common; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
    return;
  }
  if (sameScalar(from, to)) return;
  ops.push({ op: 'replace', path, value: cloneJson(to) });
}

/** Applies a patch made by diffJson (for tests and self-checks; not a general RFC 6902 engine). */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOperation[]): unknown {
  let root = cloneJson(doc);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') throw new Error('cannot remove the document root');
      root = cloneJson(op.value);
      continue;
    }
    const tokens = op.path.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = tokens.pop() as string;
    let parent: unknown = root;
    for (const t of tokens) {
      parent = Array.isArray(parent) ? parent[Number(t)] : isPlainObject(parent) ? own(parent, t) : undefined;
      if (parent === undefined) throw new Error(`path ${op.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(index, 0, cloneJson(op.value));
      else if (op.op === 'replace') parent[index] = cloneJson(op.value);
      else parent.splice(index, 1);
    } else if (isPlainObject(parent)) {
      if (op.op === 'remove') delete parent[last];
      else setOwn(parent, last, cloneJson(op.value));
    } else {
      throw new Error(`path ${op.path} has no container`);
    }
  }
  return root;
}
