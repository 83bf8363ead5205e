import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, parseConfig } from '../../shared/config/config';

describe('configuration', () => {
  it('defaults target the native stack when nothing is set', () => {
    const c = parseConfig({});
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:19092');
    expect(c.CLICKHOUSE_URL).toBe('http://127.0.0.1:18123');
    expect(c.KAFKA_PARTITIONS).toBe(6);
  });

  it('a bad value stops with one message naming the variable', () => {
    expect(() => parseConfig({ API_PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => parseConfig({ API_PORT: 'eighty' })).toThrow(/API_PORT/);
    expect(() => parseConfig({ CLICKHOUSE_URL: 'not a url' })).toThrow(/CLICKHOUSE_URL/);
    expect(() => parseConfig({ CLICKHOUSE_DATABASE: 'x; DROP TABLE y' })).toThrow(/CLICKHOUSE_DATABASE/);
  });

  it('never echoes a secret value in the error', () => {
    try {
      parseConfig({ CLICKHOUSE_PASSWORD: 'x', ALLOW_PRIVATE_WEBHOOK_TARGETS: 'maybe' });
    } catch (err) {
      expect((err as Error).message).not.toContain('x"');
    }
    try {
      parseConfig({ KAFKA_TOPIC_PREFIX: 'bad prefix' });
    } catch (err) {
      expect((err as Error).message).toMatch(/KAFKA_TOPIC_PREFIX/);
    }
  });

  it('.env.example documents every variable the config reads', () => {
    const example = fs.readFileSync(path.join(__dirname, '../../.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missing = CONFIG_VARIABLES.filter((v) => !documented.has(v));
    expect(missing).toEqual([]);
  });
});

describe('native stack ports', () => {
  it('moving the stack (STACK_*_PORT) moves every unconfigured endpoint with it', () => {
    const c = parseConfig({ STACK_KAFKA_PORT: '39092', STACK_SCHEMA_REGISTRY_PORT: '38081', STACK_CLICKHOUSE_PORT: '38123', STACK_REDIS_PORT: '36379' });
    expect([c.KAFKA_BROKERS, c.SCHEMA_REGISTRY_URL, c.CLICKHOUSE_URL, c.REDIS_URL]).toEqual([
      '127.0.0.1:39092', 'http://127.0.0.1:38081/apis/ccompat/v7', 'http://127.0.0.1:38123', 'redis://127.0.0.1:36379',
    ]);
  });

  it('a configured endpoint wins over the stack port', () => {
    expect(parseConfig({ STACK_REDIS_PORT: '36379', REDIS_URL: 'redis://cache:6379' }).REDIS_URL).toBe('redis://cache:6379');
  });
});
