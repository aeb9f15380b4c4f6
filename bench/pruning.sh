#!/usr/bin/env bash
# Runs the pruning speed benchmark (global magnitude selection on MiniLM-L6 against a full sort, transformer
# fidelity) and writes bench/pruning.md and bench/pruning.csv. The quality of pruning on MNIST and real CNNs, with
# packaging, is bench/chain.sh.
# Usage: bench/pruning.sh [MODEL.onnx]   — default bench/models/cache/minilm-l6.onnx (bench/models/fetch-models.sh);
# builds the modules it runs from this checkout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start pruning "$@"
model="${1:-bench/models/cache/minilm-l6.onnx}"
classpath="$(bench_classpath plugins/pruning)"
bench_page "Pruning: selection speed and transformer fidelity" \
"\`PruningBenchmark\` on \`$model\`: how fast the global magnitude selection picks the weights to zero, against
a full sort, and what magnitude and structured pruning cost the transformer's outputs." \
  java -Xmx4g -cp "$classpath" io.modelpress.plugins.pruning.PruningBenchmark "$model"
