#!/usr/bin/env bash
# Runs the weight-sharing benchmarks and prints markdown tables.
# Usage: bench/weight-sharing.sh [runs]   — k-means speed on MiniLM MatMul weights and the whole plugin; needs
#        bench/models/cache/minilm-l6.onnx (bench/models/fetch-models.sh)
#        bench/weight-sharing.sh pruned   — sharing after magnitude pruning (pruned zeros kept or left to k-means)
#        on the MNIST MLP and the PaddleOCR detector and classifier; no model download
# Both need the upstream modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# The pruning module is built with it, so the pruned benchmark runs the pruning code of this checkout.
./mvnw -q -o -pl plugins/pruning,plugins/weight-sharing test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/weight-sharing/target
classpath="$module/test-classes:$module/classes:$(cat $module/bench.cp)"
if [ "${1:-}" = pruned ]; then
  exec java -Xmx4g -cp "$classpath" io.modelpress.plugins.sharing.PrunedSharingBenchmark
fi
exec java -Xmx4g -cp "$classpath" \
  io.modelpress.plugins.sharing.WeightSharingBenchmark bench/models/cache/minilm-l6.onnx "${1:-5}"
