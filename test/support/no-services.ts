import net from 'node:net';

/**
 * The unit project's guard (jest.config.js `unit`): a unit test runs with no Kafka, Schema Registry,
 * ClickHouse or Redis. Every service endpoint is pointed at a reserved `.invalid` host (tagged per test file, so a client
 * an earlier file left retrying is not blamed on the next), and a socket
 * opened to one of them — or to the native stack's own ports on this machine — fails at once with a
 * message that says how to fix it, instead of a client retrying into a timeout.
 *
 * Sockets to anything else (a test's own HTTP server on port 0, the platform simulator) are allowed:
 * those are part of the code under test, not services.
 */
export function noServiceEnv(tag: string): Record<string, string> {
  return {
    KAFKA_BROKERS: `kafka.${tag}.no-service.invalid:9092`,
    SCHEMA_REGISTRY_URL: `http://schema-registry.${tag}.no-service.invalid:8081/apis/ccompat/v7`,
    CLICKHOUSE_URL: `http://clickhouse.${tag}.no-service.invalid:8123`,
    REDIS_URL: `redis://redis.${tag}.no-service.invalid:6379`,
  };
}

const SENTINEL = /^([a-z-]+)\.([a-z0-9]+)\.no-service\.invalid$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0']);

/** The native stack's ports (infra/stack.sh defaults, or STACK_*_PORT), by service name. */
function stackPorts(env: NodeJS.ProcessEnv): Map<number, string> {
  const ports = new Map<number, string>();
  const add = (name: string, variable: string, fallback: number) => ports.set(Number(env[variable]) || fallback, name);
  add('kafka', 'STACK_KAFKA_PORT', 19092);
  add('schema-registry', 'STACK_SCHEMA_REGISTRY_PORT', 18081);
  add('clickhouse', 'STACK_CLICKHOUSE_PORT', 18123);
  add('redis', 'STACK_REDIS_PORT', 16379);
  return ports;
}

/** The service a connection target is (and the test file's tag, for a sentinel host), or undefined when it is not one. */
export function serviceAt(host: string | undefined, port: number | undefined, ports: Map<number, string>): { service: string; tag?: string } | undefined {
  const sentinel = host ? SENTINEL.exec(host) : null;
  if (sentinel) return { service: sentinel[1]!, tag: sentinel[2]! };
  const service = (host === undefined || LOOPBACK.has(host)) && port !== undefined ? ports.get(port) : undefined;
  return service ? { service } : undefined;
}

export class ServiceInUnitTestError extends Error {
  constructor(service: string, target: string, testPath: string | undefined) {
    super(
      `A unit test tried to reach ${service} (${target})${testPath ? ` from ${testPath}` : ''}. Unit tests (*.unit.test.ts, ` +
        '`npm run test:unit`) run with no Kafka, Schema Registry, ClickHouse or Redis. If this test needs the stack, ' +
        'name it *.test.ts (an integration test, run by `npm test`); see test/README.md.',
    );
    this.name = 'ServiceInUnitTestError';
  }
}

interface GuardState {
  /** The unit test file running now and its sentinel tag, or undefined while an integration file runs in this worker. */
  unitTestFile: string | undefined;
  tag: string | undefined;
  ports: Map<number, string>;
  /** Refused connections not yet reported to jest (takeRefused). */
  refused: ServiceInUnitTestError[];
}
const STATE = Symbol.for('spacehub.no-services');
type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
type Patched = typeof net.Socket.prototype & { [STATE]?: GuardState };

/** net.connect hands `Socket#connect` its normalised arguments as one array; callers may pass (port, host) or options. */
function targetOf(args: unknown[]): { host?: string; port?: number } {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === 'object' && first !== null) {
    const o = first as { host?: string; port?: number | string; path?: string };
    if (o.path) return {};
    return { host: o.host, port: o.port === undefined ? undefined : Number(o.port) };
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : undefined };
  }
  return {};
}

/**
 * Installs the guard for the unit test file `testPath` (its service env carries `tag`), or (undefined) lifts it. Node's core modules
 * are shared by every test file a jest worker runs, integration files too, so the patch is installed
 * once per worker and its state lives on the shared prototype: a unit file sets it in its set-up and
 * clears it after its last test, and the integration files that follow connect as usual.
 */
export function guardUnitTestFile(testPath: string | undefined, tag?: string, env: NodeJS.ProcessEnv = process.env): void {
  const proto = net.Socket.prototype as Patched;
  if (!proto[STATE]) {
    const state: GuardState = { unitTestFile: undefined, tag: undefined, ports: stackPorts(env), refused: [] };
    proto[STATE] = state;
    const original = proto.connect as unknown as Connect;
    (proto as unknown as { connect: Connect }).connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
      const { host, port } = targetOf(args);
      const target = serviceAt(host, port, state.ports);
      // A sentinel host is never dialled; the stack's ports only while a unit file runs.
      if (!target || (state.unitTestFile === undefined && target.tag === undefined)) return original.apply(this, args);
      const err = new ServiceInUnitTestError(target.service, `${host ?? '127.0.0.1'}:${port ?? '?'}`, state.unitTestFile);
      // The client sees a failed connection at once; the set-up's afterEach fails the test with this
      // error, so the cause is named even where a client retries or wraps it in an error of its own.
      if (state.unitTestFile !== undefined && (target.tag === undefined || target.tag === state.tag)) state.refused.push(err);
      process.nextTick(() => this.destroy(err));
      return this;
    };
  }
  proto[STATE]!.unitTestFile = testPath;
  proto[STATE]!.tag = tag;
}

/** The connections refused since the last call (the unit set-up fails the test that made them). */
export function takeRefused(): ServiceInUnitTestError[] {
  const state = (net.Socket.prototype as Patched)[STATE];
  return state ? state.refused.splice(0) : [];
}
