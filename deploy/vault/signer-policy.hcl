# Vault policy for a service that signs user_hash values for the web Messenger: read the current
# web material of one workspace, nothing else (no secrets/*, no metadata, no other platform).
#
#   vault policy write user-hash-signer deploy/vault/signer-policy.hcl

path "secret/data/intercom/identity-verification/default/current/web" {
  capabilities = ["read"]
}
