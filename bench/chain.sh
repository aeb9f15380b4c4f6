#!/usr/bin/env bash
# Runs the Deep Compression chain benchmark (magnitude-pruning, weight-sharing, int8-dynamic, package, each on the
# previous output) on the MNIST classifier and two PaddleOCR CNNs, and prints markdown tables.
# Usage: bench/chain.sh   — needs the upstream modules installed (./mvnw -DskipTests install); no model download.
# The pruning module is built with it, so the benchmark runs the pruning code of this checkout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -o -pl plugins/pruning,plugins/package test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/package/target
exec java -Xmx4g -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.plugins.packaging.ChainBenchmark
