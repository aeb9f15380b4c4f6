#!/usr/bin/env bash
# Runs the feature-selection benchmark (the shipped MNIST MLP, several options, held-out accuracy) and prints a
# markdown table. Usage: bench/feature-selection.sh — needs the upstream modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -o -pl plugins/feature-selection test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/feature-selection/target
exec java -Xmx2g -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.plugins.features.FeatureSelectionBenchmark
