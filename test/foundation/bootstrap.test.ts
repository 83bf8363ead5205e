import { bootstrap } from '../../shared/runtime';
import { ClickHouseRepository, loadMigrations, migrate } from '../../shared/clickhouse/clickhouse.repository';
import { SchemaCompatibilityError } from '../../shared/schema-registry/schema-registry';
import { StreamSnapshotSchema } from '../../shared/events/events';
import { TOPIC_DEFS } from '../../shared/kafka/topics';
import { testStack, TestStack } from '../support/stack';

describe('bootstrap: migrations, topics, schemas', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack({ KAFKA_PARTITIONS: '4' });
  });
  afterAll(async () => stack?.cleanup());

  it('records every migration once; running bootstrap again applies nothing', async () => {
    const { rt } = stack;
    await bootstrap(rt);
    expect(await migrate(rt.clickhouseSettings)).toEqual([]);
    const repo = new ClickHouseRepository(rt.clickhouseSettings);
    const rows = await repo.query<{ version: number }>('versions', 'SELECT version FROM schema_migrations FINAL ORDER BY version');
    await repo.close();
    expect(rows.map((r) => r.version)).toEqual(loadMigrations(rt.clickhouseSettings).map((m) => m.version));
  });

  it('creates every topic with the configured partitions', async () => {
    const { rt } = stack;
    const admin = rt.kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [rt.topics.snapshots, rt.topics.alerts] });
    const all = await admin.listTopics();
    await admin.disconnect();
    expect(meta.topics.map((t) => t.partitions.length)).toEqual([4, 4]);
    for (const name of Object.keys(TOPIC_DEFS)) expect(all).toContain(rt.topics[name as keyof typeof TOPIC_DEFS]);
  });

  it('enforces BACKWARD compatibility: an optional field is accepted, a new required field rejected', async () => {
    const { rt } = stack;
    const subject = `${rt.topics.snapshots}-value`;
    const compatible = { ...StreamSnapshotSchema, fields: [...StreamSnapshotSchema.fields, { name: 'extra', type: ['null', 'string'], default: null }] };
    const incompatible = { ...StreamSnapshotSchema, fields: [...StreamSnapshotSchema.fields, { name: 'required_new', type: 'string' }] };
    await expect(rt.registry.register(subject, incompatible)).rejects.toBeInstanceOf(SchemaCompatibilityError);
    const newId = await rt.registry.register(subject, compatible);
    expect(newId).not.toBe(rt.registry.schemaId('snapshots'));
  });
});
