#!/usr/bin/env bash
# Runs the low-rank benchmark (SVD of a 1536x384 layer, whole MiniLM) and prints markdown tables.
# Usage: bench/low-rank.sh [runs]   — needs bench/models/cache/minilm-l6.onnx (bench/models/fetch-models.sh)
# and the upstream modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -o -pl plugins/low-rank test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/low-rank/target
exec java -Xmx4g -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.plugins.lowrank.LowRankBenchmark bench/models/cache/minilm-l6.onnx "${1:-7}"
