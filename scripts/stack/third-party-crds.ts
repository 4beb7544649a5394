/** The third-party CRDs scripts/fetch-crds.sh caches (cert-manager, KEDA, Prometheus Operator). */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, pinnedVersions } from './binaries.ts';

const PROJECTS = [
  ['cert-manager', 'CERT_MANAGER_VERSION'],
  ['keda', 'KEDA_VERSION'],
  ['prometheus-operator', 'PROMETHEUS_OPERATOR_VERSION'],
] as const;

/** Every cached CRD file, failing with the command that fetches them when one project is missing. */
export function thirdPartyCrdFiles(): string[] {
  const versions = pinnedVersions();
  const files: string[] = [];
  for (const [name, key] of PROJECTS) {
    const dir = join(cacheDir(), 'crds', `${name}-${versions[key]}`);
    if (!existsSync(join(dir, '.complete'))) {
      throw new Error(`${name} ${versions[key]} CRDs are not in ${dir}; fetch them with: bash scripts/fetch-crds.sh`);
    }
    files.push(...readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f)));
  }
  return files;
}
