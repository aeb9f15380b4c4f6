#!/usr/bin/env bash
# Runs the weight-sharing benchmark (k-means speed on MiniLM MatMul weights, whole plugin) and prints markdown tables.
# Usage: bench/weight-sharing.sh [runs]   — needs bench/models/cache/minilm-l6.onnx (bench/models/fetch-models.sh)
# and the upstream modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -o -pl plugins/weight-sharing test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/weight-sharing/target
exec java -Xmx4g -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.plugins.sharing.WeightSharingBenchmark bench/models/cache/minilm-l6.onnx "${1:-5}"
