#!/usr/bin/env bash
# Builds the Apicurio Registry server (Confluent-compatible API under /apis/ccompat/v7) from
# Maven Central with Maven, see pom.xml here. Idempotent: when OUT_DIR already holds a jar built
# from the current pom.xml + src/main/config/overrides.properties, it does nothing.
#
#   usage: infra/registry/build.sh [OUT_DIR]        (default: <repo>/.stack/registry)
#   last line of stdout: the runnable jar, OUT_DIR/quarkus-app/quarkus-run.jar
#   run:   java -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port=8081 -jar <that jar>
#          (keep the whole quarkus-app/ folder together; REGISTRY_DATASOURCE_URL=jdbc:h2:file:DIR/registry
#           makes the storage persistent, the default is an in-memory H2)
#
# Nothing is written into this source folder: Maven's target/ goes to OUT_DIR/.build and is
# removed after the quarkus-app/ folder is moved into OUT_DIR. The Maven log is OUT_DIR/build.log.
# Extra Maven arguments can be passed in REGISTRY_MVN_ARGS (e.g. "-o" or "-Dmaven.repo.local=...").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$REPO_ROOT/.stack/registry}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
APP="$OUT/quarkus-app"
JAR="$APP/quarkus-run.jar"
STAMP="$APP/.build-inputs.sha256"

inputs_hash() {
  cat "$HERE/pom.xml" "$HERE/src/main/config/overrides.properties" | sha256sum | cut -d' ' -f1
}

# one build at a time per OUT_DIR
exec 9>"$OUT/.build.lock"
flock 9

WANT=$(inputs_hash)
if [[ -f "$JAR" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "registry: up to date ($APP)" >&2
  echo "$JAR"
  exit 0
fi

# Quarkus 2.16 (used by this Apicurio version) builds and runs on Java 17; prefer it over a newer default.
if [[ -z "${JAVA_HOME:-}" && -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi

WORK="$OUT/.build"
rm -rf "$WORK"
echo "registry: building with Maven (log: $OUT/build.log) ..." >&2
start=$(date +%s)
# shellcheck disable=SC2086  # REGISTRY_MVN_ARGS is a list of words on purpose
if ! mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" -DbuildDirectory="$WORK" ${REGISTRY_MVN_ARGS:-} package >"$OUT/build.log" 2>&1; then
  tail -n 40 "$OUT/build.log" >&2
  echo "registry: Maven build failed, full log in $OUT/build.log" >&2
  exit 1
fi
if [[ ! -f "$WORK/quarkus-app/quarkus-run.jar" ]]; then
  echo "registry: Maven succeeded but $WORK/quarkus-app/quarkus-run.jar is missing" >&2
  exit 1
fi

rm -rf "$APP"
mv "$WORK/quarkus-app" "$APP"
rm -rf "$WORK"
echo "$WANT" >"$STAMP"
echo "registry: built in $(( $(date +%s) - start ))s" >&2
echo "$JAR"
