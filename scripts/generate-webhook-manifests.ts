/**
 * Writes manifests/webhook/webhook-configurations.yaml from webhook/registration.ts. With --check,
 * writes nothing and fails when the committed file differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Document, isScalar, visit } from 'yaml';
import { clusterWebhookConfigurations } from '../webhook/registration.ts';

export const WEBHOOK_MANIFEST = 'manifests/webhook/webhook-configurations.yaml';
const HEADER = '# Generated from webhook/registration.ts by `npm run gen:webhook`. Do not edit by hand.\n' +
  '# caBundle: injected by cert-manager (cert-manager/ component) or set by hand from your own CA.\n';

/** YAML with lists of scalars on one line (`operations: [ CREATE, UPDATE ]`), to keep the file short. */
function render(obj: unknown): string {
  const doc = new Document(obj);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every(isScalar)) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

export function webhookManifestText(): string {
  const { validating, mutating } = clusterWebhookConfigurations();
  return HEADER + [validating, mutating].map(render).join('---\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = new URL('..', import.meta.url).pathname;
  const file = join(root, WEBHOOK_MANIFEST);
  const text = webhookManifestText();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${WEBHOOK_MANIFEST} is out of date; run: npm run gen:webhook`);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${WEBHOOK_MANIFEST}`);
  }
}
