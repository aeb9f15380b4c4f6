#!/usr/bin/env bash
# Runs the feature-selection benchmark (the shipped MNIST MLP, several options, held-out accuracy) and writes
# bench/feature-selection.md and bench/feature-selection.csv.
# Usage: bench/feature-selection.sh   — builds the modules it runs from this checkout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start feature-selection "$@"
classpath="$(bench_classpath plugins/feature-selection)"
bench_page "Feature selection" \
"\`FeatureSelectionBenchmark\`: the MNIST MLP the test kit ships (784-256-128-10) with input features removed
under several options; accuracy is top-1 on digits 8,000 to 9,999, which the MLP was not trained on." \
  java -Xmx2g -cp "$classpath" io.modelpress.plugins.features.FeatureSelectionBenchmark
