// intercom/: the Intercom client behind the core's Intercom port (axios, retries, typed errors).
export { createIntercomClient, type IntercomClientOptions } from './client';
export { resolveIntercomBaseUrl } from './region';
export type { RetryOptions } from './retry-policy';
