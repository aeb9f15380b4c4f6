#!/usr/bin/env bash
# Runs the pruning speed benchmark (global magnitude selection on MiniLM-L6 against a full sort) and prints
# markdown tables. The quality of pruning (MNIST accuracy, real-CNN fidelity, packaged sizes) is bench/chain.sh.
# Usage: bench/pruning.sh [MODEL.onnx]   — default bench/models/cache/minilm-l6.onnx (bench/models/fetch-models.sh),
# and the upstream modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
model="${1:-bench/models/cache/minilm-l6.onnx}"
./mvnw -q -o -pl plugins/pruning test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/pruning/target
exec java -Xmx4g -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.plugins.pruning.PruningBenchmark "$model"
