/** The provider.v1 gRPC service (wire-compatible with the original VirtRigaud) over a Driver. */
export { startGrpcServer, type GrpcServer, type GrpcServerOptions } from './server.ts';
export { providerService } from './service.ts';
export { uidFromName, uidForCreate, UID_TAG } from './ids.ts';
