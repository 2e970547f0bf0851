// vault/: the SecretVault on node-vault (KV v2 layout, auth sessions, scrubbed errors).
export { createSecretVault, type SecretVaultOptions, type VaultAdapter } from './secret-vault';
export type { VaultAuthOptions } from './vault-session';
