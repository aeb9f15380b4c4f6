#!/usr/bin/env bash
# Runs the Deep Compression chain benchmark (magnitude-pruning, weight-sharing, int8-dynamic, package, each on the
# previous output) on the MNIST classifier and two PaddleOCR CNNs, and writes bench/chain.md and bench/chain.csv.
# Usage: bench/chain.sh   — no model download; builds the modules it runs from this checkout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start chain "$@"
classpath="$(bench_classpath plugins/package plugins/pruning)"
bench_page "Pruning, weight sharing, int8 and packaging, chained" \
"\`ChainBenchmark\` (plugins/package tests): every step runs on the previous step's output; every model in the
tables was run in ONNX Runtime. Plugins that measure on data get calibration data that is never the evaluation
data. \"packaged bytes\" is the \`model.onnx.zst\` the \`package\` plugin writes with its defaults (zstd level 19)." \
  java -Xmx4g -cp "$classpath" io.modelpress.plugins.packaging.ChainBenchmark
