#!/usr/bin/env bash
# MiniLM (all-MiniLM-L6-v2) compressed with real sentences instead of generated token ids: the
# sentences become data with `modelpress data` and the model's own tokenizer.json, then the
# planner chooses a chain for x86-vnni with that data.
#
# usage: bench/minilm-data.sh [OUT_DIR] [PROFILE]
#   OUT_DIR defaults to target/minilm-data; PROFILE to x86-vnni.
#   Needs the build (./mvnw -DskipTests package) and bench/models/fetch-models.sh run once.
#
# bench/data/minilm-sentences.txt: 200 English sentences, statements, questions and facts, for
# the planner; bench/data/minilm-heldout.txt: 100 other sentences (other subjects, verbs, objects,
# questions and facts) that the result is then measured on. Both written for this benchmark.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="$repo/bench/models/cache"
out="${1:-$repo/target/minilm-data}"
profile="${2:-x86-vnni}"

for file in minilm-l6.onnx minilm-l6-tokenizer.json; do
  [[ -f "$cache/$file" ]] || { echo "missing $cache/$file: run bench/models/fetch-models.sh" >&2; exit 2; }
done
mkdir -p "$out"

echo "== data: 200 sentences, 32 tokens each (none is longer), with the model's tokenizer"
"$repo/bin/modelpress" data "$cache/minilm-l6.onnx" --text "$here/data/minilm-sentences.txt" \
  --tokenizer "$cache/minilm-l6-tokenizer.json" --max-length 32 --out "$out/sentences.npz"

echo "== compress for $profile, the planner choosing with that data"
start=$(date +%s)
"$repo/bin/modelpress" compress "$cache/minilm-l6.onnx" --profile "$profile" --calibration "$out/sentences.npz" \
  --out "$out/$profile" 2> "$out/$profile.progress.log" | tee "$out/$profile.txt"
echo "planning and compression took $(( $(date +%s) - start )) s; progress lines in $out/$profile.progress.log"

echo "== the chosen model against the original on 100 sentences it never saw"
"$repo/bin/modelpress" data "$cache/minilm-l6.onnx" --text "$here/data/minilm-heldout.txt" \
  --tokenizer "$cache/minilm-l6-tokenizer.json" --max-length 32 --out "$out/heldout.npz"
"$repo/bin/modelpress" bench "$cache/minilm-l6.onnx" "$out/$profile/model.onnx" --calibration "$out/heldout.npz" \
  --iterations 5 2> /dev/null | tee "$out/$profile.heldout.txt"
