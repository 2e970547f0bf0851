# Vault policy for ivs-bot serving several Intercom workspaces (IVS_CONFIG), confined to exactly
# their subtrees: deploy/kubernetes/workspaces-example/workspaces.yaml has `us` under the global
# VAULT_PATH_PREFIX and `eu` under its own vault_path_prefix. Each block is what SPEC §5 needs for one
# workspace (see ivs-bot-policy.hcl for what each capability is for); add one per workspace.
#
#   vault policy write ivs-bot deploy/vault/ivs-bot-workspaces-policy.hcl

# ---- us: <mount>/data/intercom/identity-verification/us/…
path "secret/data/intercom/identity-verification/us/secrets/*" {
  capabilities = ["create", "read"]
}

path "secret/metadata/intercom/identity-verification/us/secrets/*" {
  capabilities = ["create", "update", "read", "patch"]
}

path "secret/delete/intercom/identity-verification/us/secrets/*" {
  capabilities = ["update"]
}

path "secret/data/intercom/identity-verification/us/current/*" {
  capabilities = ["create", "read", "update"]
}

path "secret/delete/intercom/identity-verification/us/current/*" {
  capabilities = ["update"]
}

# ---- eu: <mount>/data/eu/intercom/identity-verification/eu/…
path "secret/data/eu/intercom/identity-verification/eu/secrets/*" {
  capabilities = ["create", "read"]
}

path "secret/metadata/eu/intercom/identity-verification/eu/secrets/*" {
  capabilities = ["create", "update", "read", "patch"]
}

path "secret/delete/eu/intercom/identity-verification/eu/secrets/*" {
  capabilities = ["update"]
}

path "secret/data/eu/intercom/identity-verification/eu/current/*" {
  capabilities = ["create", "read", "update"]
}

path "secret/delete/eu/intercom/identity-verification/eu/current/*" {
  capabilities = ["update"]
}

# Preflight, readiness and token renewal, as in ivs-bot-policy.hcl.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}
