/** The Provider controller: Provider → agent Deployment, Service, bus credentials, status. */
export { startProviderController, PROVIDER_FINALIZER, type ProviderController, type ProviderControllerDeps, type VMEventSource } from './controller.ts';
export { loadProviderControllerConfig, ProviderConfigError, type ProviderControllerConfig } from './config.ts';
export { bootstrapNatsAuth, mintAgentCreds, type NatsAuthBootstrap } from './nats-accounts.ts';
