#!/usr/bin/env bash
# Runs the retraining benchmark (Deep Compression one-shot against fine-tuned, gradual against one-shot pruning) on
# the test kit's MNIST classifier and prints bench/retraining.md; the raw figures go to target/retraining.csv.
# Usage: bench/retraining.sh > bench/retraining.md   — builds the modules it needs in this checkout (no install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# the stamp is taken before the build: what is built is what it names
dirty="$(git status --porcelain -- . ':!bench/retraining.md')"
commit="$(git rev-parse --short HEAD)${dirty:+ plus uncommitted changes}"
./mvnw -q -o -pl plugins/package -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/package/target
cp="$module/test-classes:$module/classes"
# the reactor's own modules come from their target/classes, the rest from the local repository
for m in spi model testkit pruning weight-sharing distillation; do cp="$cp:plugins/$m/target/classes"; done
cp="$cp:services/inference/target/classes:$(cat $module/bench.cp)"
load_before="$(cat /proc/loadavg)"
echo "# Retraining benchmark"
echo
echo "What it measures: the \`fine-tune\` plugin (DJL's PyTorch engine, CPU, one training thread) inside the Deep"
echo "Compression chain on the test kit's MNIST classifier (784-256-128-10 MLP, 941,040 bytes fp32). Fine-tuning"
echo "trains on digits [0, 8000), which trained the model; every top-1 figure is measured in ONNX Runtime on the"
echo "unpacked file against digits [8000, 10000), which no step saw. Sizes are of the packaged file (zstd level 19)."
echo "Fine-tuned chains: prune, fine-tune (10 epochs, Adam 1e-3, cosine), share 4 bits, fine-tune the codebooks"
echo "(4 epochs, 1e-5), package. Training times are wall-clock on a shared 2-core machine."
echo
echo "- commit: $commit"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(java -version 2>&1 | head -1)"
echo "- command: bench/retraining.sh"
echo "- load average before: $load_before"
java -Xmx3g -Dai.djl.offline=true -cp "$cp" io.modelpress.plugins.packaging.RetrainingBenchmark
echo
echo "- load average after: $(cat /proc/loadavg)"
echo "- raw figures: target/retraining.csv"
