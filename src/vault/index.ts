export { createSecretVault, type SecretVaultOptions, type VaultAdapter } from './secret-vault';
export type { VaultAuthOptions } from './vault-session';
