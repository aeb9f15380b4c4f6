#!/usr/bin/env bash
# Runs the quantization benchmarks and prints their figures (recorded in bench/quantization.md).
# Usage: bench/quantization.sh [real|minilm|all] [FILTER]
#   real    the six real models of the test kit under each quantizer: size, fidelity, latency fp32 vs int8
#   minilm  the MiniLM sentence-embedding transformer: size, embedding cosine, processing time, latency
#           at batch 1, sequence 128 against fp32 and the published int8 peer, side by side in one process
#   FILTER  only models (real) or variants (minilm) whose name contains it; for minilm a comma-separated
#           list of such terms, a term ending in $ matching the end of the name
# Needs bench/models/cache/minilm-l6.onnx for minilm (fetched here when missing) and the upstream
# modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
what="${1:-all}"
if [[ "$what" != real && ! -f bench/models/cache/minilm-l6.onnx ]]; then
  bench/models/fetch-models.sh >&2
fi
./mvnw -q -o -pl plugins/quantization test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/quantization/target
exec java -Xmx8g -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.plugins.quantization.QuantizationBenchmark "$what" "${2:-}"
