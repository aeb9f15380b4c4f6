#!/usr/bin/env bash
# Runs the fp16 / graph-optimize benchmark and prints markdown tables (recorded in bench/fp16.md):
# size, fidelity against fp32 and CPU latency of each output, on the six real models of the test
# kit and on MiniLM.
# Usage: bench/fp16.sh [iterations] [FILTER]   — FILTER: only models whose name contains it
# Needs bench/models/cache/minilm-l6.onnx for MiniLM (fetched here when missing) and the upstream
# modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ ! -f bench/models/cache/minilm-l6.onnx ]]; then
  bench/models/fetch-models.sh >&2 || echo "MiniLM could not be fetched; measuring the real models only" >&2
fi
./mvnw -q -o -pl plugins/fp16,plugins/graph-optimize test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
fp16=plugins/fp16/target
optimize=plugins/graph-optimize/target
# one copy of each jar: ONNX Runtime's native library crashes the JVM when two copies of its jar load it
classpath="$(tr ':' '\n' < $fp16/bench.cp; tr ':' '\n' < $optimize/bench.cp)"
classpath="$(awk 'NF && !seen[$0]++' <<< "$classpath" | paste -sd:)"
exec java -Xmx6g -cp "$fp16/test-classes:$fp16/classes:$optimize/classes:$classpath" \
  io.modelpress.plugins.fp16.Fp16Benchmark bench/models/cache/minilm-l6.onnx "${1:-30}" "${2:-}"
