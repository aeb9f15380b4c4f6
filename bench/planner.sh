#!/usr/bin/env bash
# Runs the planner (`bin/modelpress compress` without --plugin) on real models for one profile and
# prints a markdown table: what it chose, what that gained and lost, and how long planning took.
# Usage: bench/planner.sh [profile] [extra compress options...]   (default profile x86-vnni)
# The ~86 MiB MiniLM transformer is included when bench/models/cache/minilm-l6.onnx exists
# (bench/models/fetch-models.sh fetches it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile="${1:-x86-vnni}"
shift || true
[ -f "$root/services/cli/target/modelpress-cli.jar" ] || (cd "$root" && ./mvnw -q -B -DskipTests install)

fixtures="$root/plugins/testkit/src/main/resources/io/modelpress/testkit/models"
models=(wakeword-hello-deepa silero-vad-v4 silero-vad-v5 ocr-det ocr-rec ocr-cls mnist-mlp)
paths=()
for name in "${models[@]}"; do paths+=("$fixtures/$name.onnx"); done
if [ -f "$root/bench/models/cache/minilm-l6.onnx" ]; then
  models+=(minilm-l6)
  paths+=("$root/bench/models/cache/minilm-l6.onnx")
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "profile $profile, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| model | original | chosen chain | compressed | ratio | drop | p50 before → after | candidates measured | planning |"
echo "|---|---|---|---|---|---|---|---|---|"
for i in "${!models[@]}"; do
  out="$work/${models[$i]}"
  if ! "$root/bin/modelpress" compress "${paths[$i]}" --profile "$profile" --out "$out" "$@" > "$work/log" 2>&1; then
    echo "| ${models[$i]} | failed: $(tail -1 "$work/log") |||||||"
    continue
  fi
  jq -r --arg model "${models[$i]}" '
    def mb: . / 1048576 | . * 100 | round / 100 | tostring + " MB";
    def ms: if . == null then "—" else (. * 100 | round / 100 | tostring) end;
    .planning as $p
    | [$model,
       (.original.bytes | mb),
       ($p.chosen.chain | map(.pluginId) | join(" → ")),
       (.compressed.bytes | mb),
       ((.original.bytes / .compressed.bytes * 100 | round / 100 | tostring) + "x"),
       (($p.chosen.drop // 0) * 10000 | round / 100 | tostring) + " pts",
       ((.benchmark.original.p50Millis | ms) + " → " + (.benchmark.compressed.p50Millis | ms) + " ms"),
       ([$p.trials[] | select(.outcome == "measured")] | length | tostring) + " of " + ($p.trials | length | tostring),
       (($p.planningMillis / 1000 * 10 | round / 10 | tostring) + " s")]
    | "| " + join(" | ") + " |"' "$out/report.json"
done
