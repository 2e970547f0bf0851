# Vault policy for ivs-bot: exactly what SPEC §5 needs, for every workspace under the default mount
# (`secret`) and prefix (`intercom/identity-verification`). With other VAULT_KV_MOUNT /
# VAULT_PATH_PREFIX values, change the paths; to confine a bot to one workspace, replace `+`.
#
#   vault policy write ivs-bot deploy/vault/ivs-bot-policy.hcl

# The material of each secret, written once with cas=0 ("create" only: it is never overwritten).
# "read" copies it to current/<platform> when a newer secret goes away.
path "secret/data/intercom/identity-verification/+/secrets/*" {
  capabilities = ["create", "read"]
}

# custom_metadata (request id, requester, approvers, channel) written after the data, read by
# `/ivs list` ("does Vault hold material for this id"), patched with intercom_deleted_at.
path "secret/metadata/intercom/identity-verification/+/secrets/*" {
  capabilities = ["create", "update", "read", "patch"]
}

# Soft delete of a secret's versions after the Intercom delete.
path "secret/delete/intercom/identity-verification/+/secrets/*" {
  capabilities = ["update"]
}

# The stable per-platform copy signers read, updated with check-and-set after each create and delete.
path "secret/data/intercom/identity-verification/+/current/*" {
  capabilities = ["create", "read", "update"]
}

# Soft delete of current/<platform> when a delete leaves the platform with no active secret.
path "secret/delete/intercom/identity-verification/+/current/*" {
  capabilities = ["update"]
}

# Preflight before every create: "may this token create at the target path?" Also in Vault's
# built-in `default` policy, repeated here for tokens created with -no-default-policy.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Readiness (token still valid) and renewal of AppRole / Kubernetes-auth tokens (also in `default`).
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}
