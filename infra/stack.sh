#!/usr/bin/env bash
# Native local stack: Kafka (KRaft), Schema Registry (Apicurio, Confluent API), ClickHouse (chDB engine
# serving the HTTP interface) and Redis, run as plain processes on 127.0.0.1 — no Docker.
#   infra/stack.sh install | up | down | status | logs [service]
# A service whose endpoint is configured (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, CLICKHOUSE_URL, REDIS_URL)
# is external: this script neither installs, starts nor stops it.
# Everything it writes lives under $STACK_DIR (default .stack/, git-ignored): data/, logs/, run/, lib/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# .env may set ports and endpoints; the environment wins over it.
if [[ -f "$ROOT/.env" && -z "${SPACEHUB_NO_DOTENV:-}" ]]; then
  while IFS='=' read -r k v; do
    [[ "$k" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [[ -z "${!k:-}" ]] && export "$k=$v"
  done < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$ROOT/.env")
fi

STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
KAFKA_PORT="${STACK_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${STACK_KAFKA_CONTROLLER_PORT:-19093}"
REGISTRY_PORT="${STACK_SCHEMA_REGISTRY_PORT:-18081}"
CLICKHOUSE_PORT="${STACK_CLICKHOUSE_PORT:-18123}"
REDIS_PORT="${STACK_REDIS_PORT:-16379}"
# Downloaded/built servers; shareable between stacks (a test runs a second stack on the same jars).
LIB_DIR="${SPACEHUB_STACK_LIB_DIR:-$STACK_DIR/lib}"
KAFKA_VERSION_DIR="$LIB_DIR/kafka-3.9.1"
CHDB_LIB="${CHDB_LIB:-$ROOT/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so}"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

external() { # service -> 0 when its endpoint is configured
  case "$1" in
    kafka) [[ -n "${KAFKA_BROKERS:-}" ]] ;;
    registry) [[ -n "${SCHEMA_REGISTRY_URL:-}" ]] ;;
    clickhouse) [[ -n "${CLICKHOUSE_URL:-}" ]] ;;
    redis) [[ -n "${REDIS_URL:-}" ]] ;;
  esac
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_of() { local f="$STACK_DIR/run/$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

redis_ping() { # RESP over bash's /dev/tcp: no dependency on redis-cli
  local reply
  { exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3>&- 3<&-
  [[ "$reply" == "+PONG"* ]]
}

healthy() {
  case "$1" in
    kafka) port_open "$KAFKA_PORT" ;;
    registry) curl -fsS -m 2 "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/subjects" >/dev/null 2>&1 ;;
    clickhouse) [[ "$(curl -fsS -m 2 "http://127.0.0.1:$CLICKHOUSE_PORT/ping" 2>/dev/null)" == "Ok." ]] ;;
    redis) redis_ping ;;
  esac
}

# ---------------------------------------------------------------- install (idempotent, cached)
install_redis() {
  command -v redis-server >/dev/null && return
  log "installing redis-server (apt)"
  command -v apt-get >/dev/null || die "redis-server is missing and apt-get is not available; set REDIS_URL"
  [[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' 2>/dev/null | head -1)" ]] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
  # The Debian package starts a system instance on 6379; ours runs on its own port and data dir.
}

install_kafka() {
  [[ -f "$KAFKA_VERSION_DIR/.complete" ]] && return
  command -v java >/dev/null || die "java (17+) is required for Kafka"
  command -v mvn >/dev/null || die "maven (mvn) is required to fetch Kafka from Maven Central"
  log "fetching Kafka 3.9.1 jars from Maven Central (mvn)"
  rm -rf "$KAFKA_VERSION_DIR"; mkdir -p "$KAFKA_VERSION_DIR"
  mvn -q -B -f "$ROOT/infra/maven/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_VERSION_DIR" > "$STACK_DIR/logs/mvn-kafka.log" 2>&1 \
    || die "mvn failed to fetch Kafka; see $STACK_DIR/logs/mvn-kafka.log"
  touch "$KAFKA_VERSION_DIR/.complete"
}

install_registry() {
  REGISTRY_JAR="$(bash "$ROOT/infra/registry/build.sh" "$LIB_DIR/registry" 2> "$STACK_DIR/logs/registry-build.log" | tail -n 1)" \
    || die "building the Schema Registry failed; see $STACK_DIR/logs/registry-build.log"
  [[ -f "$REGISTRY_JAR" ]] || die "Schema Registry jar not found after build ($REGISTRY_JAR)"
}

install_clickhouse() {
  [[ -f "$CHDB_LIB" ]] || die "chDB engine not found at $CHDB_LIB; run 'npm install' (package @chdb/lib-linux-x64-gnu)"
  command -v python3 >/dev/null || die "python3 is required to launch the ClickHouse engine"
}

cmd_install() {
  mkdir -p "$STACK_DIR"/{data,logs,run} "$LIB_DIR"
  external redis || install_redis
  external kafka || install_kafka
  external registry || install_registry
  external clickhouse || install_clickhouse
}

# ---------------------------------------------------------------- start
spawn() { # name logfile cmd...   (detached: own session, no inherited stdio)
  local name="$1" logfile="$2"; shift 2
  setsid nohup "$@" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$STACK_DIR/run/$name.pid"
}

start_redis() {
  mkdir -p "$STACK_DIR/data/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STACK_DIR/data/redis" \
    --appendonly yes --save "60 1" --daemonize yes --pidfile "$STACK_DIR/run/redis.pid" \
    --logfile "$STACK_DIR/logs/redis.log" --maxmemory-policy noeviction >/dev/null
}

start_kafka() {
  local dir="$STACK_DIR/data/kafka" conf="$STACK_DIR/run/kafka.properties"
  mkdir -p "$dir"
  cat > "$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
PROPS
  if [[ ! -f "$dir/meta.properties" ]]; then
    java -cp "$KAFKA_VERSION_DIR/*" kafka.tools.StorageTool format -t "$(cat /proc/sys/kernel/random/uuid | tr -d '-' | head -c 22)" \
      -c "$conf" >> "$STACK_DIR/logs/kafka.log" 2>&1 || die "formatting Kafka storage failed; see $STACK_DIR/logs/kafka.log"
  fi
  spawn kafka "$STACK_DIR/logs/kafka.log" java -Xms256m -Xmx512m -XX:+UseG1GC \
    -Dlog4j.configuration="file:$ROOT/infra/maven/log4j.properties" -Dkafka.logs.dir="$STACK_DIR/logs" \
    -cp "$KAFKA_VERSION_DIR/*" kafka.Kafka "$conf"
}

start_registry() {
  mkdir -p "$STACK_DIR/data/registry"
  spawn registry "$STACK_DIR/logs/registry.log" env \
    REGISTRY_DATASOURCE_URL="${REGISTRY_DATASOURCE_URL:-jdbc:h2:file:$STACK_DIR/data/registry/registry}" \
    java -Xms64m -Xmx384m -XX:TieredStopAtLevel=1 -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dcom.arjuna.ats.arjuna.common.CoreEnvironmentBean.processImplementationClassName=com.arjuna.ats.internal.arjuna.utils.UuidProcessId \
    -jar "$REGISTRY_JAR"
}

start_clickhouse() {
  mkdir -p "$STACK_DIR/data/clickhouse"
  spawn clickhouse "$STACK_DIR/logs/clickhouse.log" python3 "$ROOT/infra/clickhouse/chdb_server.py" \
    "$CHDB_LIB" "$STACK_DIR/data/clickhouse" "$CLICKHOUSE_PORT"
}

wait_healthy() { # service timeout_s
  local s="$1" deadline=$((SECONDS + $2))
  until healthy "$s"; do
    if ! pid_of "$s" >/dev/null; then die "$s exited during start-up; see $STACK_DIR/logs/$s.log"; fi
    (( SECONDS < deadline )) || die "$s not healthy after $2 s; see $STACK_DIR/logs/$s.log"
    sleep 0.3
  done
}

cmd_up() {
  cmd_install
  local started=()
  for s in redis clickhouse kafka registry; do
    if external "$s"; then log "$s: external, not started"; continue; fi
    if healthy "$s"; then continue; fi
    if pid_of "$s" >/dev/null; then log "$s: process alive but unhealthy, waiting"; else "start_$s"; started+=("$s"); fi
  done
  for s in "${started[@]}"; do
    case "$s" in kafka) wait_healthy kafka 90 ;; registry) wait_healthy registry 90 ;; *) wait_healthy "$s" 60 ;; esac
    log "$s: up"
  done
  cmd_status
}

# ---------------------------------------------------------------- stop / status
stop_one() {
  local s="$1" pid
  pid="$(pid_of "$s")" || { rm -f "$STACK_DIR/run/$s.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { log "$s did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$STACK_DIR/run/$s.pid"
  log "$s: stopped"
}

cmd_down() {
  # Registry before Kafka; Kafka gets time for a clean shutdown so its logs need no recovery.
  for s in "${@:-registry kafka clickhouse redis}"; do
    for one in $s; do external "$one" || stop_one "$one"; done
  done
}

endpoint() {
  case "$1" in
    kafka) echo "${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}" ;;
    registry) echo "${SCHEMA_REGISTRY_URL:-http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7}" ;;
    clickhouse) echo "${CLICKHOUSE_URL:-http://127.0.0.1:$CLICKHOUSE_PORT}" ;;
    redis) echo "${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}" ;;
  esac
}

cmd_status() {
  local rc=0
  for s in kafka registry clickhouse redis; do
    local state
    if external "$s"; then state="external"
    elif healthy "$s"; then state="up (pid $(pid_of "$s" || echo '?'))"
    else state="down"; rc=1; fi
    printf '%-11s %-22s %s\n' "$s" "$state" "$(endpoint "$s")"
  done
  return $rc
}

cmd_env() { # the endpoints, as env assignments, for scripts that source them
  echo "KAFKA_BROKERS=$(endpoint kafka)"
  echo "SCHEMA_REGISTRY_URL=$(endpoint registry)"
  echo "CLICKHOUSE_URL=$(endpoint clickhouse)"
  echo "REDIS_URL=$(endpoint redis)"
}

case "${1:-status}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  restart) shift; cmd_down "$@"; cmd_up ;;
  status) cmd_status ;;
  env) cmd_env ;;
  logs) tail -n 100 "$STACK_DIR/logs/${2:-kafka}.log" ;;
  *) die "usage: infra/stack.sh install|up|down [service…]|restart|status|env|logs [service]" ;;
esac
