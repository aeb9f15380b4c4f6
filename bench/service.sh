#!/usr/bin/env bash
# Runs the compressor service end to end on a real Kafka broker and S3 server (child processes):
# event-to-result latency for a small model and for MiniLM (~90 MB), and small-model events per
# minute with one and with two models in flight. Writes bench/service.md and bench/service.csv;
# progress goes to stderr.
# Usage: bench/service.sh [runs] [burst]  — needs bench/models/cache/minilm-l6.onnx
# (bench/models/fetch-models.sh); packages the service from this checkout when it is missing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start service "$@"
model=bench/models/cache/minilm-l6.onnx
[ -f "$model" ] || { echo "missing $model: run bench/models/fetch-models.sh" >&2; exit 2; }
service=services/compressor/target/quarkus-app
[ -f "$service/quarkus-run.jar" ] || ./mvnw -B -ntp -q -o -pl services/compressor -am package -DskipTests >&2
module=services/cli/target
# A copy of the service, so that a rebuild while the benchmark runs cannot pull it away.
rm -rf "$module/bench-service" && cp -r "$service" "$module/bench-service"
classpath="$(bench_classpath services/cli)"
bench_page "The compressor service end to end" \
"\`ServiceBenchmark\` (the CLI's tests): a single-node Kafka broker (KRaft) and an S3 server as child JVMs on
loopback ports, the packaged service (\`quarkus-run.jar\`) as a third; models uploaded through the S3 API, events
published and read with plain Kafka clients. Each event names the chain \`graph-cleanup -> int8-dynamic\` for
profile \`x86-vnni\`; every model version is new except in the \"same event again\" row; the service's first
model after its start is a warm-up and not counted." \
  java -Xmx1g -Dai.djl.offline=true -cp "$classpath" \
  io.modelpress.cli.ServiceBenchmark "$module/bench-service/quarkus-run.jar" "$model" "${1:-5}" "${2:-12}"
