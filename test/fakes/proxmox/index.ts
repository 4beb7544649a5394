/**
 * A fake Proxmox VE API for tests and benchmarks (never imported by product code). Built from the
 * API schema (pve-docs api-viewer/apidata.js) and PVE's own sources for task, lock and error
 * behaviour; see server.ts (HTTP, auth, answer format) and cluster.ts (what the calls do).
 */
export { FakePve, type FakePveOptions, type HttpFault, type CorruptFault, type RequestRecord } from './server.ts';
export { FakeCluster, type FakeOptions, type TaskFault } from './cluster.ts';
export type { ClusterState, FakeVm, FakeTask, FakeVolume } from './state.ts';
