import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * Issue 17, deployment. Docker cannot run on the machines this is tested on, so the compose file is
 * checked by parsing it (YAML merge keys resolved as Compose does) and asserting what it exposes and
 * which credentials it demands; the ClickHouse users file it mounts is checked the same way.
 */
const root = path.join(__dirname, '../..');
type Service = {
  image?: string;
  ports?: unknown[];
  networks?: string[] | Record<string, unknown>;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
};
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
};
const services = compose.services;
const networksOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? { default: null }));
const BACKING = ['kafka', 'registry-db', 'schema-registry', 'clickhouse', 'redis'];
const READERS = ['api', 'gateway', 'grafana'];

describe('docker-compose.yml', () => {
  it('publishes none of Kafka, the Schema Registry (and its database), ClickHouse or Redis: they sit on an internal network only', () => {
    for (const name of BACKING) {
      const s = services[name]!;
      expect({ name, ports: s.ports }).toEqual({ name, ports: undefined });
      for (const n of networksOf(s)) expect({ name, network: n, internal: compose.networks[n]?.internal }).toEqual({ name, network: n, internal: true });
    }
    // What is published at all: the API, the gateway, Grafana and the simulator's OAuth pages.
    const published = Object.entries(services).filter(([, s]) => s.ports?.length).map(([n]) => n).sort();
    expect(published).toEqual(['api', 'gateway', 'grafana', 'simulator']);
  });

  it('requires every credential (no default passwords), and the services use them', () => {
    const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    // `${VAR:-default}` would start with a known password; `${VAR:?message}` refuses to start without one.
    expect(text).not.toMatch(/\$\{[A-Z_]*(PASSWORD|KEYS?|SECRET)[A-Z_]*:-/);
    for (const [name, s] of Object.entries(services)) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|ENCRYPTION_KEYS/.test(k)) expect({ name, k, v: String(v) }).toEqual({ name, k, v: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/) });
      }
    }
  });

  it('Grafana: an admin password is required, anonymous access and sign-up are off, it reads ClickHouse as the reader', () => {
    const g = services.grafana!.environment!;
    expect(g.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    expect(g.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(g.GF_USERS_ALLOW_SIGN_UP).toBe('false');
    expect(g.CLICKHOUSE_USER).toBe('spacehub_reader');
  });

  it('the API, the gateway and Grafana use the read-only ClickHouse user; the pipeline the writer; readers start after the writer migrated', () => {
    for (const name of READERS) expect({ name, user: services[name]!.environment!.CLICKHOUSE_USER }).toEqual({ name, user: 'spacehub_reader' });
    for (const name of ['bootstrap', 'processor', 'ingest', 'notify', 'retrain']) {
      expect({ name, user: services[name]!.environment!.CLICKHOUSE_USER }).toEqual({ name, user: 'spacehub_writer' });
    }
    for (const name of READERS) expect(services[name]!.depends_on!.bootstrap).toEqual({ condition: 'service_completed_successfully' });
    expect(services.clickhouse!.volumes).toContain('./infra/clickhouse/users.d/spacehub-users.xml:/etc/clickhouse-server/users.d/spacehub-users.xml:ro');
  });
});

describe('infra/clickhouse/users.d/spacehub-users.xml (clickhouse-server users)', () => {
  const xml = fs.readFileSync(path.join(root, 'infra/clickhouse/users.d/spacehub-users.xml'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  const element = (within: string, tag: string) => {
    const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(within);
    if (!m) throw new Error(`<${tag}> not found`);
    return m[1]!;
  };
  const profiles = element(xml, 'profiles');
  const users = element(xml, 'users');

  it('the reader: SELECT on the spacehub database only, readonly=2, the API\'s caps pinned as constraints, cancelled on client close', () => {
    const user = element(users, 'spacehub_reader');
    expect(user).toContain('<password from_env="CLICKHOUSE_READER_PASSWORD"/>');
    expect(element(user, 'profile')).toBe('spacehub_reader');
    expect([...element(user, 'grants').matchAll(/<query>([^<]+)<\/query>/g)].map((m) => m[1])).toEqual(['GRANT SELECT ON spacehub.*']);
    const profile = element(profiles, 'spacehub_reader');
    expect(element(profile, 'readonly')).toBe('2');
    expect(element(profile, 'cancel_http_readonly_queries_on_client_close')).toBe('1');
    const constraints = element(profile, 'constraints');
    // Equal to the config defaults the API applies per query (.env.example).
    const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
    const envValue = (k: string) => new RegExp(`^${k}=(\\d+)$`, 'm').exec(example)![1];
    expect(element(element(constraints, 'max_execution_time'), 'max')).toBe(envValue('API_QUERY_MAX_EXECUTION_SECONDS'));
    expect(element(element(constraints, 'max_memory_usage'), 'max')).toBe(envValue('API_QUERY_MAX_MEMORY_BYTES'));
    expect(element(profile, 'max_execution_time')).toBe(envValue('API_QUERY_MAX_EXECUTION_SECONDS'));
  });

  it('the writer: its password from the environment, grants limited to the spacehub database', () => {
    const user = element(users, 'spacehub_writer');
    expect(user).toContain('<password from_env="CLICKHOUSE_WRITER_PASSWORD"/>');
    for (const [, q] of user.matchAll(/<query>([^<]+)<\/query>/g)) expect(q).toMatch(/ ON spacehub\.\*$/);
    expect(user).not.toMatch(/access_management/);
  });
});
