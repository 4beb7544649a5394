import assert from 'node:assert/strict';
import { forRule, newPath, FieldPath, valueAtPath } from '../../../webhook/framework/field-path.ts';

describe('webhook/framework/field-path', () => {
  const paths: Array<{ name: string; path: FieldPath; want: string }> = [
    { name: 'a child of a root prints dotted', path: newPath('spec', 'disks'), want: 'spec.disks' },
    { name: 'an index prints in brackets', path: newPath('spec', 'disks').index(1).child('sizeGiB'), want: 'spec.disks[1].sizeGiB' },
    { name: 'a map key prints unquoted in brackets', path: newPath('metadata', 'labels').key('virtrigaud.io/class'), want: 'metadata.labels[virtrigaud.io/class]' },
    { name: 'several children at once', path: FieldPath.root('spec').child('template', 'spec'), want: 'spec.template.spec' },
    { name: 'nested indexes', path: newPath('spec', 'a').index(0).child('b').index(12), want: 'spec.a[0].b[12]' },
  ];
  for (const p of paths) it(p.name, () => assert.equal(p.path.toString(), p.want));

  it('paths are immutable: a step returns a new path', () => {
    const base = newPath('spec');
    base.child('disks');
    assert.equal(base.toString(), 'spec');
  });

  it('forRule makes each Kubernetes error type with the rule name and rendered path', () => {
    const errors = forRule('disk-names-unique');
    const at = newPath('spec', 'disks').index(1).child('name');
    const made = [
      errors.invalid(at, 'm'), errors.required(at, 'm'), errors.forbidden(at, 'm'), errors.duplicate(at, 'm'), errors.notSupported(at, 'm'),
    ];
    assert.deepEqual(made.map((e) => e.type), ['FieldValueInvalid', 'FieldValueRequired', 'FieldValueForbidden', 'FieldValueDuplicate', 'FieldValueNotSupported']);
    for (const e of made) assert.deepEqual({ field: e.field, rule: e.rule, message: e.message }, { field: 'spec.disks[1].name', rule: 'disk-names-unique', message: 'm' });
  });

  const object = { spec: { disks: [{ name: 'a' }, { name: 'b', sizeGiB: 5 }] }, metadata: { labels: { 'virtrigaud.io/class': 'small' } } };
  const lookups: Array<{ path: string; want: unknown }> = [
    { path: 'spec.disks[1].sizeGiB', want: 5 },
    { path: 'metadata.labels[virtrigaud.io/class]', want: 'small' },
    { path: 'spec.disks[7].name', want: undefined },
    { path: 'spec.disks.name', want: undefined },
    { path: 'spec.nothing.deeper', want: undefined },
  ];
  for (const l of lookups) it(`resolves ${l.path} against an object`, () => assert.deepEqual(valueAtPath(object, l.path), l.want));
});
