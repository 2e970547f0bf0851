export { createIntercomClient, type IntercomClientOptions } from './client';
export { resolveIntercomBaseUrl } from './region';
export type { RetryOptions } from './retry-policy';
