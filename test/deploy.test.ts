import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DRAIN_TIMEOUT_MS } from '../src/tuning';
import { loadConfig } from '../src/config';
import { PLATFORMS } from '../src/core/types';
import { kvLayout } from '../src/vault/kv-layout';

/**
 * No container engine or cluster runs here, so the deployment files are reviewed by machine: what the
 * Dockerfile copies exists, it starts what `npm start` starts, the manifests parse and carry the
 * settings the bot reads, and the Vault policy grants what the adapter's paths need.
 */

const ROOT = resolve(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---- Dockerfile ---------------------------------------------------------------------------------

interface Instruction {
  readonly op: string;
  readonly args: string;
}

interface Stage {
  readonly name: string;
  readonly image: string;
  readonly instructions: Instruction[];
}

/** Instructions per stage, continuation lines joined and comments dropped. */
function dockerStages(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && pending === '') continue;
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, ' ');
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const op = (match[1] ?? '').toUpperCase();
    const args = (match[2] ?? '').trim();
    if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from?.[1] ?? '', name: from?.[2] ?? String(stages.length), instructions: [] });
    } else {
      stages[stages.length - 1]?.instructions.push({ op, args });
    }
  }
  return stages;
}

/** COPY's flags and paths: the last path is the destination. JSON form is not used in our Dockerfile. */
function copyParts(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [key, value] = (words.shift() ?? '').slice(2).split('=');
    flags[key ?? ''] = value ?? '';
  }
  const dest = words.pop() ?? '';
  return { flags, sources: words, dest };
}

/** Whether .dockerignore keeps `path` out of the build context (exact, prefix and `*` patterns, `!` exceptions). */
function ignoredByDockerignore(path: string, patterns: readonly string[]): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}

const dockerfile = read('Dockerfile');
const stages = dockerStages(dockerfile);
const runtime = stages[stages.length - 1] as Stage;
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const dockerignore = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const ops = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  it('builds every stage from one Node major, one that CI runs the whole suite on (not only 20)', () => {
    const ciMajors = /^EXTRA_NODE_MAJORS=\(([\d ]+)\)$/m.exec(read('.ci/run'))?.[1]?.split(' ').map(Number) ?? [];
    expect(ciMajors).toContain(24);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const majors = new Set(stages.map((stage) => Number(/^node:(\d+)-slim$/.exec(stage.image)?.[1])));
    expect(majors.size, stages.map((s) => s.image).join(', ')).toBe(1);
    expect(ciMajors).toContain([...majors][0]);
  });

  it('copies only files that exist in the repository and reach the build context', () => {
    const copies = stages.flatMap((s) => ops(s, 'COPY').map((args) => copyParts(args))).filter((c) => !('from' in c.flags));
    expect(copies.length).toBeGreaterThan(0);
    for (const { sources } of copies) {
      for (const source of sources) {
        const path = source.replace(/^\.\//, '').replace(/\/$/, '');
        expect(existsSync(join(ROOT, path)), `COPY ${source}: not in the repository`).toBe(true);
        expect(ignoredByDockerignore(path, dockerignore), `COPY ${source}: excluded by .dockerignore`).toBe(false);
      }
    }
  });

  it('copies from earlier stages only what those stages produce: the build output and production node_modules', () => {
    const fromStages = runtime.instructions
      .filter((i) => i.op === 'COPY')
      .map((i) => copyParts(i.args))
      .filter((c) => 'from' in c.flags);
    expect(fromStages.map((c) => c.sources.join(' ')).sort()).toEqual(['/app/dist', '/app/node_modules']);
    for (const copy of fromStages) {
      const stage = stages.find((s) => s.name === copy.flags['from']);
      expect(stage, `--from=${copy.flags['from']}`).toBeDefined();
      const runs = ops(stage as Stage, 'RUN').join('\n');
      if (copy.sources[0] === '/app/dist') expect(runs).toContain('npm run build');
      if (copy.sources[0] === '/app/node_modules') expect(runs).toMatch(/npm ci --omit=dev/);
      expect(ops(stage as Stage, 'WORKDIR')).toContain('/app');
    }
  });

  it('builds dist/src/main.js, the file the CMD runs, from src/main.ts', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { extends: string; include: string[] };
    const base = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(build.include).toEqual(['src']);
    expect(base.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(existsSync(join(ROOT, 'src/main.ts'))).toBe(true);
    expect(packageJson.scripts['build']).toBe('tsc -p tsconfig.build.json');
  });

  it('starts with the same command as npm start', () => {
    const cmd = ops(runtime, 'CMD');
    expect(cmd).toHaveLength(1);
    const argv = JSON.parse(cmd[0] ?? '') as string[];
    expect(argv.join(' ')).toBe(packageJson.scripts['start']);
  });

  it('runs as a non-root user in production mode and exposes the default PORT', () => {
    const users = ops(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = (users[users.length - 1] ?? '').split(':')[0];
    expect(['root', '0', '']).not.toContain(user);
    expect(ops(runtime, 'ENV').join(' ')).toMatch(/NODE_ENV=production/);
    expect(ops(runtime, 'EXPOSE')).toEqual(['3000']);
  });

  it('checks health on /healthz with node, which slim images have (curl they lack)', () => {
    const healthcheck = ops(runtime, 'HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    const command = JSON.parse((healthcheck[0] ?? '').replace(/^.*?CMD\s+/, '')) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/healthz');
    expect(command.join(' ')).not.toMatch(/\bcurl\b|\bwget\b/);
  });

  it('keeps local secrets and dependencies out of the build context', () => {
    for (const path of ['.env', '.env.production', 'node_modules', '.git', 'dist']) {
      expect(ignoredByDockerignore(path, dockerignore), path).toBe(true);
    }
  });

  it('keeps the dev-only stand-ins, the sandbox and the drill out of the build context, and src/ never imports them', () => {
    for (const path of ['emulators/slack-api.ts', 'sandbox/server/main.ts', 'sandbox/web/index.html', 'drill/main.ts']) {
      expect(ignoredByDockerignore(path, dockerignore), path).toBe(true);
    }
    const sources = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
      );
    for (const file of sources('src')) expect(read(file), file).not.toMatch(/from '(\.\.\/)+(emulators|sandbox|drill|test)\//);
  });
});

// ---- Kubernetes -----------------------------------------------------------------------------------

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [k: string]: unknown;
};

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function manifestsIn(path: string): Manifest[] {
  return parseAllDocuments(read(path)).map((doc) => {
    expect(doc.errors, `${path}: ${doc.errors.map((e) => e.message).join('; ')}`).toEqual([]);
    return doc.toJS() as Manifest;
  });
}

const k8s = yamlFiles('deploy/kubernetes').filter(
  (p) => !p.startsWith(join('deploy/kubernetes/signer-example')) && !p.startsWith(join('deploy/kubernetes/workspaces-example')),
);
const botManifests = k8s.filter((p) => !p.endsWith('kustomization.yaml')).flatMap(manifestsIn);
const one = (kind: string, list: readonly Manifest[] = botManifests) => {
  const found = list.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
};

interface Container {
  name: string;
  ports: Array<{ name: string; containerPort: number }>;
  envFrom: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown>;
}

interface PodSpec {
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  containers: Container[];
}

const podOf = (deployment: Manifest) => (deployment['spec'] as { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } }).template;

/** Setting names src/config.ts reads: the keys of its schema. */
const SETTINGS = [...read('src/config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string);

describe('Kubernetes example', () => {
  it('parses, every file, with the kinds an ops team expects', () => {
    expect(botManifests.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount'].sort(),
    );
    for (const m of botManifests) if (m.kind !== 'Namespace') expect(m.metadata.namespace, m.kind).toBe('ivs-bot');
  });

  it('lists every manifest in the kustomization', () => {
    const kustomization = manifestsIn('deploy/kubernetes/kustomization.yaml')[0] as unknown as { resources: string[] };
    const files = k8s.filter((p) => !p.endsWith('kustomization.yaml')).map((p) => relative('deploy/kubernetes', p));
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('runs two replicas with /healthz liveness, /readyz readiness and resources', () => {
    const deployment = one('Deployment');
    expect((deployment['spec'] as { replicas: number }).replicas).toBe(2);
    const container = podOf(deployment).spec.containers[0] as Container;
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.resources.requests).toHaveProperty('cpu');
    expect(container.resources.requests).toHaveProperty('memory');
    expect(container.resources.limits).toHaveProperty('memory');
    const port = container.ports.find((p) => p.name === container.readinessProbe.httpGet.port);
    expect(port?.containerPort).toBe(3000);
  });

  it('runs as non-root on a read-only root filesystem without privilege escalation', () => {
    const pod = podOf(one('Deployment')).spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.securityContext['runAsUser']).not.toBe(0);
    expect((pod.containers[0] as Container).securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('gives the bot longer than its shutdown drain before Kubernetes kills it', () => {
    expect(podOf(one('Deployment')).spec.terminationGracePeriodSeconds).toBeGreaterThan(DRAIN_TIMEOUT_MS / 1000);
  });

  it('wires the ConfigMap, the Secret and the ServiceAccount the Deployment names', () => {
    const pod = podOf(one('Deployment')).spec;
    const envFrom = (pod.containers[0] as Container).envFrom;
    expect(envFrom.map((e) => e.configMapRef?.name).filter(Boolean)).toEqual([one('ConfigMap').metadata.name]);
    expect(envFrom.map((e) => e.secretRef?.name).filter(Boolean)).toEqual([one('Secret').metadata.name]);
    expect(pod.serviceAccountName).toBe(one('ServiceAccount').metadata.name);
    const service = one('Service')['spec'] as { selector: Record<string, string>; ports: Array<{ targetPort: string }> };
    expect(service.ports[0]?.targetPort).toBe('http');
    expect(service.selector).toEqual((one('Deployment')['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
  });

  it('holds only placeholders in the Secret, and only tokens there', () => {
    const data = (one('Secret') as unknown as { stringData: Record<string, string> }).stringData;
    expect(Object.keys(data).sort()).toEqual(['INTERCOM_ACCESS_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']);
    for (const [key, value] of Object.entries(data)) expect(value === '' || value.includes('REPLACE-ME'), `${key}=${value}`).toBe(true);
  });

  it('names only settings the bot reads, and together they make a valid configuration', () => {
    const configData = (one('ConfigMap') as unknown as { data: Record<string, string> }).data;
    const secretData = (one('Secret') as unknown as { stringData: Record<string, string> }).stringData;
    for (const key of [...Object.keys(configData), ...Object.keys(secretData)]) expect(SETTINGS, key).toContain(key);
    const loaded = loadConfig({ ...configData, ...secretData });
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
    expect(loaded.ok && loaded.config.vault.auth.kind).toBe('kubernetes');
    expect(loaded.ok && loaded.config.port).toBe(3000);
  });
});

describe('Kubernetes example with several workspaces', () => {
  const dir = 'deploy/kubernetes/workspaces-example';
  const kustomization = manifestsIn(`${dir}/kustomization.yaml`)[0] as unknown as {
    resources: string[];
    configMapGenerator: Array<{ name: string; files: string[] }>;
    patches: Array<{ path: string }>;
  };
  const patch = (kind: string) => {
    const found = kustomization.patches.map((p) => manifestsIn(`${dir}/${p.path}`)[0] as Manifest).filter((m) => m.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0] as Manifest;
  };
  /** A strategic-merge patch of a flat map, as kustomize applies it: null removes the key. */
  const merged = (base: Record<string, string>, changes: Record<string, string | null>) => {
    const out: Record<string, string> = { ...base };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
    return out;
  };
  const env = () => {
    const configData = merged(
      (one('ConfigMap') as unknown as { data: Record<string, string> }).data,
      (patch('ConfigMap') as unknown as { data: Record<string, string | null> }).data,
    );
    const secretData = merged(
      (one('Secret') as unknown as { stringData: Record<string, string> }).stringData,
      (patch('Secret') as unknown as { stringData: Record<string, string | null> }).stringData,
    );
    return { configData, secretData };
  };

  it('builds on the base example and patches only what differs', () => {
    expect(kustomization.resources).toEqual(['../']);
    expect(kustomization.configMapGenerator).toEqual([{ name: 'ivs-bot-workspaces', files: ['workspaces.yaml'] }]);
    expect(patch('ConfigMap').metadata.name).toBe(one('ConfigMap').metadata.name);
    expect(patch('Secret').metadata.name).toBe(one('Secret').metadata.name);
    expect(patch('Deployment').metadata.name).toBe(one('Deployment').metadata.name);
  });

  it('mounts the file of workspaces where IVS_CONFIG names it', () => {
    const { configData } = env();
    const pod = podOf(patch('Deployment')).spec as unknown as {
      containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
      volumes: Array<{ name: string; configMap?: { name: string } }>;
    };
    const volume = pod.volumes.find((v) => v.configMap?.name === 'ivs-bot-workspaces');
    const mount = pod.containers[0]?.volumeMounts.find((m) => m.name === volume?.name);
    expect(mount?.readOnly).toBe(true);
    expect(configData['IVS_CONFIG']).toBe(`${mount?.mountPath}/workspaces.yaml`);
  });

  it('holds only placeholders in the Secret, one Intercom token per workspace', () => {
    const { secretData } = env();
    expect(Object.keys(secretData).sort()).toEqual(['INTERCOM_TOKEN_EU', 'INTERCOM_TOKEN_US', 'SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']);
    for (const [key, value] of Object.entries(secretData)) expect(value === '' || value.includes('REPLACE-ME'), `${key}=${value}`).toBe(true);
  });

  it('makes a valid configuration of two workspaces, with tokens from the Secret', () => {
    const { configData, secretData } = env();
    for (const key of Object.keys(configData)) expect(SETTINGS, key).toContain(key);
    const loaded = loadConfig({ ...configData, ...secretData, IVS_CONFIG: join(ROOT, dir, 'workspaces.yaml') });
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
    if (!loaded.ok) return;
    expect(loaded.config.workspaces.map((w) => w.name)).toEqual(['us', 'eu']);
    expect(loaded.config.workspaces.map((w) => w.intercom.apiUrl)).toEqual(['https://api.intercom.io', 'https://api.eu.intercom.io']);
    // An approver of one workspace is nobody in the other.
    const [us, eu] = loaded.config.workspaces;
    expect(us?.approvers.filter((a) => eu?.approvers.includes(a))).toEqual([]);
  });

  it('is covered by the Vault policy for named workspace subtrees, and nothing beyond them', () => {
    const rules = policyRules('deploy/vault/ivs-bot-workspaces-policy.hcl');
    const { configData, secretData } = env();
    const loaded = loadConfig({ ...configData, ...secretData, IVS_CONFIG: join(ROOT, dir, 'workspaces.yaml') });
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    for (const w of loaded.config.workspaces) {
      const layout = kvLayout({ kvMount: 'secret', pathPrefix: w.vaultPathPrefix, workspace: w.name });
      const secret = layout.secretKey('102');
      expect(capabilitiesFor(rules, layout.data(secret)), w.name).toEqual(['create', 'read']);
      expect(capabilitiesFor(rules, layout.metadata(secret))).toEqual(expect.arrayContaining(['update', 'read', 'patch']));
      expect(capabilitiesFor(rules, layout.delete(secret))).toEqual(['update']);
      for (const platform of PLATFORMS) {
        expect(capabilitiesFor(rules, layout.data(layout.currentKey(platform)))).toEqual(expect.arrayContaining(['create', 'read', 'update']));
        expect(capabilitiesFor(rules, layout.delete(layout.currentKey(platform)))).toEqual(['update']);
      }
      // Another workspace's name under this one's prefix gets nothing.
      const other = kvLayout({ kvMount: 'secret', pathPrefix: w.vaultPathPrefix, workspace: 'au' });
      expect(capabilitiesFor(rules, other.data(other.secretKey('102')))).toEqual([]);
    }
    for (const rule of rules) expect(rule.capabilities, rule.path).not.toContain('list');
    expect(capabilitiesFor(rules, 'sys/capabilities-self')).toEqual(['update']);
  });
});

// ---- Signer example and Vault policies --------------------------------------------------------------

interface PolicyRule {
  readonly path: string;
  readonly capabilities: readonly string[];
}

function policyRules(path: string): PolicyRule[] {
  const text = read(path).replace(/^\s*#.*$/gm, '');
  return [...text.matchAll(/path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g)].map((m) => ({
    path: m[1] ?? '',
    capabilities: [...(m[2] ?? '').matchAll(/"([a-z]+)"/g)].map((c) => c[1] ?? ''),
  }));
}

/** Vault's matching: `+` is one segment, a trailing `*` a prefix; the most specific rule wins (ours do not overlap). */
function capabilitiesFor(rules: readonly PolicyRule[], path: string): readonly string[] {
  const matching = rules.filter((rule) => {
    const glob = rule.path.endsWith('*');
    const pattern = rule.path
      .replace(/\*$/, '')
      .split('/')
      .map((seg) => (seg === '+' ? '[^/]+' : seg.replace(/[.^$|?()[\]{}\\]/g, '\\$&')))
      .join('/');
    return new RegExp(`^${pattern}${glob ? '.*' : ''}$`).test(path);
  });
  expect(matching.length, `rules matching ${path}`).toBeLessThanOrEqual(1);
  return matching[0]?.capabilities ?? [];
}

const signerManifests = yamlFiles('deploy/kubernetes/signer-example').flatMap(manifestsIn);
const CURRENT_WEB = 'secret/data/intercom/identity-verification/default/current/web';

describe('signer example', () => {
  it('reads current/web through the Vault Agent injector', () => {
    const deployment = signerManifests.find((m) => m.kind === 'Deployment' && podOf(m).metadata.annotations?.['vault.hashicorp.com/agent-inject'] === 'true');
    const annotations = podOf(deployment as Manifest).metadata.annotations ?? {};
    expect(annotations['vault.hashicorp.com/agent-inject-secret-intercom-web']).toBe(CURRENT_WEB);
    expect(annotations['vault.hashicorp.com/agent-inject-template-intercom-web']).toContain(`with secret "${CURRENT_WEB}"`);
    expect(annotations['vault.hashicorp.com/agent-inject-template-intercom-web']).toContain('.Data.data.secret');
    expect(annotations['vault.hashicorp.com/role']).toBe('user-hash-signer');
  });

  it('reads current/web through an External Secrets ExternalSecret', () => {
    const store = one('SecretStore', signerManifests)['spec'] as { provider: { vault: { path: string; version: string } } };
    expect(store.provider.vault).toMatchObject({ path: 'secret', version: 'v2' });
    const external = one('ExternalSecret', signerManifests)['spec'] as { data: Array<{ remoteRef: { key: string; property: string } }> };
    expect(external.data.map((d) => `${store.provider.vault.path}/data/${d.remoteRef.key}`)).toContain(CURRENT_WEB);
    expect(external.data.map((d) => d.remoteRef.property)).toContain('secret');
  });

  it('grants the signer read on current/web and nothing else', () => {
    const rules = policyRules('deploy/vault/signer-policy.hcl');
    expect(rules).toEqual([{ path: CURRENT_WEB, capabilities: ['read'] }]);
  });

  it('is where the bot writes: the path kvLayout builds for current/web', () => {
    const layout = kvLayout({ kvMount: 'secret', pathPrefix: 'intercom/identity-verification', workspace: 'default' });
    expect(layout.data(layout.currentKey('web'))).toBe(CURRENT_WEB);
  });
});

describe('Vault policy for the bot', () => {
  const rules = policyRules('deploy/vault/ivs-bot-policy.hcl');
  const layout = kvLayout({ kvMount: 'secret', pathPrefix: 'intercom/identity-verification', workspace: 'eu-prod' });
  const secret = layout.secretKey('102');

  it.each([
    ['write the material once', layout.data(secret), ['create']],
    ['read it to re-point current/<platform>', layout.data(secret), ['read']],
    ['write, read and patch custom_metadata', layout.metadata(secret), ['update', 'read', 'patch']],
    ['soft-delete the material after the Intercom delete', layout.delete(secret), ['update']],
    ['run the preflight', 'sys/capabilities-self', ['update']],
    ['check its token for readiness', 'auth/token/lookup-self', ['read']],
    ['renew its token', 'auth/token/renew-self', ['update']],
  ])('lets the bot %s', (_what, path, needed) => {
    expect(capabilitiesFor(rules, path)).toEqual(expect.arrayContaining(needed));
  });

  it.each(PLATFORMS)('lets the bot check-and-set and soft-delete current/%s', (platform) => {
    const key = layout.currentKey(platform);
    expect(capabilitiesFor(rules, layout.data(key))).toEqual(expect.arrayContaining(['create', 'read', 'update']));
    expect(capabilitiesFor(rules, layout.delete(key))).toEqual(['update']);
  });

  it('never lets the bot overwrite material, destroy versions, list, or reach outside its prefix', () => {
    expect(capabilitiesFor(rules, layout.data(secret))).not.toContain('update');
    expect(capabilitiesFor(rules, `secret/destroy/${secret}`)).toEqual([]);
    expect(capabilitiesFor(rules, `secret/data/other-team/thing`)).toEqual([]);
    expect(capabilitiesFor(rules, `secret/metadata/intercom/identity-verification/eu-prod`)).toEqual([]);
    for (const rule of rules) expect(rule.capabilities, rule.path).not.toEqual(expect.arrayContaining(['sudo']));
    for (const rule of rules) expect(rule.capabilities, rule.path).not.toContain('list');
  });
});

// ---- README and .env.example ------------------------------------------------------------------------

describe('README and .env.example', () => {
  const readme = read('README.md');
  const settingsSection = readme.split(/^## /m).find((s) => s.startsWith('Settings')) ?? '';

  it('documents every setting src/config.ts reads in the Settings table, and no other', () => {
    expect(SETTINGS.length).toBeGreaterThan(30);
    const documented = [...settingsSection.matchAll(/^\| `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...SETTINGS].sort());
  });

  it('gives exactly the install and test commands .ci/run runs, and the sandbox between them', () => {
    const quickStart = readme.split(/^## /m).find((s) => s.startsWith('Quick start')) ?? '';
    const commands = [...quickStart.matchAll(/^```sh\n([\s\S]*?)```/gm)].flatMap((m) => (m[1] ?? '').trim().split('\n'));
    expect(commands).toEqual(['npm ci', 'npm run sandbox', 'npm test']);
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['sandbox']).toBe('tsx sandbox/server/main.ts');
    const ci = read('.ci/run');
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
    // The short fault drill, with a fixed seed so a failure replays.
    expect(ci).toMatch(/^npm run drill -- --seconds \d+ --replicas \d+ --seed "\$DRILL_SEED"$/m);
    expect(ci).toMatch(/^DRILL_SEED=\d+$/m);
  });

  it('lists every setting in .env.example with placeholder values only', () => {
    const lines = read('.env.example')
      .split('\n')
      .filter((l) => /^#? ?[A-Z][A-Z0-9_]+=/.test(l));
    const names = lines.map((l) => l.replace(/^# ?/, '').split('=')[0]);
    expect([...new Set(names)].sort()).toEqual([...SETTINGS].sort());
    for (const line of lines) {
      const value = line.split('=').slice(1).join('=');
      expect(value, line).not.toMatch(/xox[bp]-\d|xapp-\d|hvs\.[A-Za-z0-9]{20}|[A-Za-z0-9_-]{43}/);
    }
  });

  it('makes a valid configuration from its uncommented lines, and from each commented default', () => {
    const lines = read('.env.example').split('\n');
    const pair = (l: string) => [l.replace(/^# ?/, '').split('=')[0] ?? '', l.split('=').slice(1).join('=')] as const;
    const active = Object.fromEntries(lines.filter((l) => /^[A-Z][A-Z0-9_]+=/.test(l)).map(pair));
    const loaded = loadConfig(active);
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
    // The commented lines that show a default must name the default the code applies.
    const defaults = Object.fromEntries(lines.filter((l) => /^# [A-Z][A-Z0-9_]+=/.test(l)).map(pair));
    // Commented examples that are not defaults: the other auth methods, optional extras.
    const examples = [
      'VAULT_TOKEN',
      'VAULT_ROLE_ID',
      'VAULT_SECRET_ID',
      'VAULT_CACERT',
      'SLACK_APP_TOKEN',
      'VAULT_NAMESPACE',
      'IVS_REQUESTERS',
      'IVS_CONFIG',
      'IVS_ROTATE_AFTER',
    ];
    const withDefaults = loadConfig({ ...active, ...defaults, ...Object.fromEntries(examples.map((k) => [k, undefined])) });
    expect(withDefaults.ok ? [] : withDefaults.problems).toEqual([]);
    if (loaded.ok && withDefaults.ok) {
      const { vault: v1, secrets: _s1, ...rest1 } = loaded.config;
      const { vault: v2, secrets: _s2, ...rest2 } = withDefaults.config;
      expect(rest2).toEqual(rest1);
      expect({ ...v2, auth: undefined }).toEqual({ ...v1, auth: undefined });
    }
  });
});
