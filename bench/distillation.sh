#!/usr/bin/env bash
# Runs the distillation benchmark (MNIST MLP and CNN teachers, several settings) and writes bench/distillation.md
# and bench/distillation.csv.
# Usage: bench/distillation.sh [teacher:key=value,...]...   — teacher is mlp, mlp-unlabelled or cnn;
# without arguments a fixed set of scenarios. Builds the modules it runs from this checkout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start distillation "$@"
classpath="$(bench_classpath plugins/distillation)"
bench_page "Distillation" \
"The \`distillation\` plugin on the MNIST teachers of the test kit, end to end: the teacher run in ONNX Runtime on
the transfer set (digits 0 to 7,999), the student trained with DJL's PyTorch engine (CPU), exported and run in
ONNX Runtime. Accuracy is top-1 on digits 8,000 to 9,999, which neither teacher nor student saw." \
  java -Xmx4g -Dai.djl.offline=true -cp "$classpath" io.modelpress.plugins.distillation.DistillationBenchmark "$@"
