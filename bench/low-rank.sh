#!/usr/bin/env bash
# Runs the low-rank benchmark (SVD of a 1536x384 layer, whole MiniLM) and writes bench/low-rank.md and
# bench/low-rank.csv.
# Usage: bench/low-rank.sh [runs]   — needs bench/models/cache/minilm-l6.onnx (bench/models/fetch-models.sh);
# builds the modules it runs from this checkout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start low-rank "$@"
classpath="$(bench_classpath plugins/low-rank)"
bench_page "Low-rank factorization" \
"\`LowRankBenchmark\` on all-MiniLM-L6-v2 (\`bench/models/cache/minilm-l6.onnx\`): the SVD of one 1536x384 layer
(wall time and the thread's CPU time, which the machine's load does not inflate), then the whole model under
several options. Fidelity: cosine of \`last_hidden_state\` on sequences of random token ids." \
  java -Xmx4g -cp "$classpath" io.modelpress.plugins.lowrank.LowRankBenchmark bench/models/cache/minilm-l6.onnx \
  "${1:-7}"
