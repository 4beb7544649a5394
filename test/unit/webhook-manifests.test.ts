import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { WEBHOOK_MANIFEST, webhookManifestText } from '../../scripts/generate-webhook-manifests.ts';
import { clusterWebhookConfigurations } from '../../webhook/registration.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('webhook manifests', () => {
  it('manifests/webhook/webhook-configurations.yaml is what webhook/registration.ts generates (run `npm run gen:webhook`)', () => {
    assert.equal(readFileSync(join(ROOT, WEBHOOK_MANIFEST), 'utf8'), webhookManifestText());
  });

  it('registers all ten kinds for validation and mutation, fail-closed, without side effects, DELETE for VMClass, VMPlacementPolicy and Provider', () => {
    const docs = parseAllDocuments(readFileSync(join(ROOT, WEBHOOK_MANIFEST), 'utf8')).map((d) => d.toJS() as ReturnType<typeof clusterWebhookConfigurations>['validating']);
    const [validating, mutating] = docs as Array<{ webhooks: Array<Record<string, unknown> & { rules: Array<{ operations: string[]; resources: string[] }> }> }>;
    assert.equal(validating?.webhooks.length, 10);
    assert.equal(mutating?.webhooks.length, 10);
    for (const hook of [...validating!.webhooks, ...mutating!.webhooks]) {
      assert.equal(hook.failurePolicy, 'Fail');
      assert.equal(hook.sideEffects, 'None');
      assert.equal(hook.timeoutSeconds, 5);
      assert.deepEqual(hook.admissionReviewVersions, ['v1']);
    }
    const deletes = validating!.webhooks.filter((h) => h.rules[0]!.operations.includes('DELETE')).map((h) => h.rules[0]!.resources[0]);
    assert.deepEqual(deletes.sort(), ['providers', 'vmclasses', 'vmplacementpolicies']);
    assert.ok(mutating!.webhooks.every((h) => !h.rules[0]!.operations.includes('DELETE')));
  });
});
