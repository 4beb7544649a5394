/** Mocha global fixture: whatever real servers the tests started are stopped at the end. */
import { stopTestCluster } from './cluster.ts';

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestCluster();
}
