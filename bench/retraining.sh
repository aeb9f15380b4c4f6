#!/usr/bin/env bash
# Runs the retraining benchmark (Deep Compression one-shot against fine-tuned, gradual against one-shot pruning,
# L1 before pruning, structured pruning of a BatchNorm CNN with fine-tuning) on the test kit's MNIST classifier and
# writes bench/retraining.md and bench/retraining.csv.
# Usage: bench/retraining.sh   — builds the modules it needs from this checkout (no install).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start retraining "$@"
classpath="$(bench_classpath plugins/package plugins/distillation)"
BENCH_OWN_CSV=1 bench_page "Retraining benchmark" \
"What it measures: the \`fine-tune\` plugin (DJL's PyTorch engine, CPU, one training thread) inside the Deep
Compression chain on the test kit's MNIST classifier (784-256-128-10 MLP, 941,040 bytes fp32). Fine-tuning
trains on digits [0, 8000), which trained the model; every top-1 figure is measured in ONNX Runtime on the
unpacked file against digits [8000, 10000), which no step saw. Sizes are of the packaged file (zstd level 19).
Fine-tuned chains: prune, fine-tune (10 epochs, Adam 1e-3, cosine), share 4 bits, fine-tune the codebooks
(4 epochs, 1e-5), package. Training times are wall-clock on a shared 2-core machine." \
  java -Xmx3g -Dai.djl.offline=true -Dcsv="$BENCH_CSV" -cp "$classpath" io.modelpress.plugins.packaging.RetrainingBenchmark
