#!/usr/bin/env bash
# Runs the weight-sharing benchmarks and writes their page and CSV.
# Usage: bench/weight-sharing.sh [runs]   — k-means speed on MiniLM MatMul weights and the whole plugin; needs
#        bench/models/cache/minilm-l6.onnx (bench/models/fetch-models.sh); writes bench/weight-sharing.md
#        bench/weight-sharing.sh pruned   — sharing after magnitude pruning (pruned zeros kept or left to k-means)
#        on the MNIST MLP and the PaddleOCR detector and classifier; writes bench/weight-sharing-pruned.md
# Builds the modules it runs from this checkout (pruning with it, so the pruned benchmark runs this pruning code).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${1:-}" = pruned ]; then
  bench_start weight-sharing-pruned "$@"
  classpath="$(bench_classpath plugins/weight-sharing plugins/pruning)"
  bench_page "Weight sharing after pruning" \
"\`PrunedSharingBenchmark\`: magnitude pruning, then weight sharing with the pruned zeros kept as their own
cluster or left to k-means, on the MNIST MLP and the PaddleOCR detector and classifier." \
    java -Xmx4g -cp "$classpath" io.modelpress.plugins.sharing.PrunedSharingBenchmark
else
  bench_start weight-sharing "$@"
  classpath="$(bench_classpath plugins/weight-sharing plugins/pruning)"
  bench_page "Weight sharing" \
"\`WeightSharingBenchmark\` on all-MiniLM-L6-v2: k-means speed on its MatMul weights (wall and thread CPU time)
and the whole plugin, with the fidelity of \`last_hidden_state\`." \
    java -Xmx4g -cp "$classpath" io.modelpress.plugins.sharing.WeightSharingBenchmark \
    bench/models/cache/minilm-l6.onnx "${1:-5}"
fi
