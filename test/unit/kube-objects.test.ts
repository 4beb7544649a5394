/** What informer caches keep of an object. */
import { strict as assert } from 'node:assert';
import { dropBookkeeping } from '../../kube/index.ts';

describe('kube: cached objects', () => {
  it('drop managedFields and kubectl\'s last-applied copy, keep every other annotation and field', () => {
    const obj = {
      metadata: {
        name: 'web', namespace: 'apps',
        managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}', 'virtrigaud.io/force-delete': 'true' },
      },
      spec: { powerState: 'On' },
    };
    dropBookkeeping(obj);
    assert.deepEqual(obj, { metadata: { name: 'web', namespace: 'apps', annotations: { 'virtrigaud.io/force-delete': 'true' } }, spec: { powerState: 'On' } });
  });
});
