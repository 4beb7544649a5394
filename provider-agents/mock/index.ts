/** The mock hypervisor driver (tests and benchmarks only). */
export { MockDriver, DEFAULT_MOCK_CAPABILITIES, type MockDriverOptions } from './driver.ts';
export { MockStore, mockBucketName, type MockVm, type MockSnapshot, type Overlap, type BusyMarker } from './store.ts';
export { FaultPlan, MOCK_OPS, parseFaults, type MockFault, type MockOp } from './faults.ts';
export { loadMockConfig, type MockConfig } from './config.ts';
