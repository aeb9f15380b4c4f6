#!/usr/bin/env bash
# Runs the fp16 / graph-optimize benchmark and writes bench/fp16.md and bench/fp16.csv: size, fidelity against
# fp32 and CPU latency of each output, on the six real models of the test kit and on MiniLM.
# Usage: bench/fp16.sh [rounds] [FILTER]   — rounds: at least this many timing rounds; FILTER: only models whose
# name contains it. Needs bench/models/cache/minilm-l6.onnx for MiniLM (fetched here when missing); builds the
# modules it runs from this checkout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start fp16 "$@"
if [[ ! -f bench/models/cache/minilm-l6.onnx ]]; then
  bench/models/fetch-models.sh >&2 || echo "MiniLM could not be fetched; measuring the real models only" >&2
fi
fp16="$(bench_classpath plugins/fp16 plugins/graph-optimize)"
optimize=plugins/graph-optimize/target
# one copy of each jar: ONNX Runtime's native library crashes the JVM when two copies of its jar load it
classpath="$(tr ':' '\n' <<< "$fp16"; echo "$optimize/classes"; tr ':' '\n' < "$optimize/bench.cp")"
classpath="$(awk 'NF && !seen[$0]++' <<< "$classpath" | paste -sd:)"
bench_page "fp16 and graph-optimize" \
"\`Fp16Benchmark\`: \`fp16\` (defaults: float16, model inputs and outputs kept float32) and \`graph-optimize\`
(level \`basic\`), alone and chained, against the float32 original: serialized size, fidelity of every output
(mean and worst cosine, largest absolute error, top-1 agreement over the last axis) and CPU latency. Real models:
the test kit's realistic inputs, 4 samples; MiniLM: 8 sequences of 32 random token ids for fidelity, one of 128
for latency. Latency: every variant of a model timed in the same rounds on raw ONNX Runtime sessions (median)." \
  java -Xmx6g -cp "$classpath" io.modelpress.plugins.fp16.Fp16Benchmark bench/models/cache/minilm-l6.onnx \
  "${1:-30}" "${2:-}"
