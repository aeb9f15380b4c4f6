#!/usr/bin/env bash
# Runs the compressor service end to end on a real Kafka broker and S3 server (child processes):
# event-to-result latency for a small model and for MiniLM (~90 MB), and small-model events per
# minute with one and with two models in flight. Prints markdown tables; progress goes to stderr.
# Usage: bench/service.sh [runs] [burst]  — needs bench/models/cache/minilm-l6.onnx
# (bench/models/fetch-models.sh) and the build (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
model=bench/models/cache/minilm-l6.onnx
[ -f "$model" ] || { echo "missing $model: run bench/models/fetch-models.sh" >&2; exit 2; }
service=services/compressor/target/quarkus-app
[ -f "$service/quarkus-run.jar" ] || { echo "missing $service: run ./mvnw -DskipTests install" >&2; exit 2; }
module=services/cli/target
# A copy of the service, so that a rebuild while the benchmark runs cannot pull it away.
rm -rf "$module/bench-service" && cp -r "$service" "$module/bench-service"
./mvnw -q -o -pl services/cli test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
exec java -Xmx1g -Dai.djl.offline=true -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.cli.ServiceBenchmark "$module/bench-service/quarkus-run.jar" "$model" "${1:-5}" "${2:-12}"
