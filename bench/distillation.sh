#!/usr/bin/env bash
# Runs the distillation benchmark (MNIST MLP and CNN teachers, several settings) and prints a markdown table.
# Usage: bench/distillation.sh [teacher:key=value,...]...   — teacher is mlp, mlp-unlabelled or cnn;
# without arguments a fixed set of scenarios. Needs the upstream modules installed (./mvnw -DskipTests install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -o -pl plugins/distillation test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/distillation/target
exec java -Xmx4g -Dai.djl.offline=true -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
  io.modelpress.plugins.distillation.DistillationBenchmark "$@"
