#!/usr/bin/env bash
# Runs the quantization benchmarks and writes their page and CSV (bench/quantization.md for `all`, else
# bench/quantization-real.md or bench/quantization-minilm.md).
# Usage: bench/quantization.sh [real|minilm|all] [FILTER]
#   real    the six real models of the test kit under each quantizer: size, fidelity, latency fp32 vs int8
#   minilm  the MiniLM sentence-embedding transformer: size, embedding cosine, processing time, latency
#           at batch 1, sequence 128 against fp32 and the published int8 peer, in the same rounds
#   FILTER  only models (real) or variants (minilm) whose name contains it; for minilm a comma-separated
#           list of such terms, a term ending in $ matching the end of the name
# Needs bench/models/cache/minilm-l6.onnx for minilm (fetched here when missing); builds the modules it runs
# from this checkout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
what="${1:-all}"
case "$what" in
  all) bench_start quantization "$@" ;;
  real|minilm) bench_start "quantization-$what" "$@" ;;
  *) echo "usage: bench/quantization.sh [real|minilm|all] [FILTER]" >&2; exit 2 ;;
esac
if [[ "$what" != real && ! -f bench/models/cache/minilm-l6.onnx ]]; then
  bench/models/fetch-models.sh >&2
fi
classpath="$(bench_classpath plugins/quantization)"
bench_page "Quantization" \
"\`QuantizationBenchmark\` (\`$what\`${2:+, filter \`$2\`}): size, fidelity against fp32, processing time and
latency of each quantizer's output. Latency: fp32, the quantized variants and (MiniLM) the published int8 peer
timed in the same rounds in one process." \
  java -Xmx8g -Dmodelpress.models=bench/models/cache -cp "$classpath" \
  io.modelpress.plugins.quantization.QuantizationBenchmark "$what" "${2:-}"
