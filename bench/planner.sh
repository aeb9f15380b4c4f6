#!/usr/bin/env bash
# Runs the planner (`bin/modelpress compress` without --plugin) on real models for one profile and
# prints a markdown table: what it chose, what that gained and lost, and how long planning took.
# Models get realistic calibration data (PlannerBenchData in the CLI's tests): images for the OCR
# models, feature frames for the wakeword model, voiced audio with a state and a sample rate for the
# Silero models, digits (and labelled held-out digits) for MNIST; MiniLM is measured on generated
# inputs (random token ids).
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
(cd "$root" && ./mvnw -q -o -pl services/cli -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2)
cli="$root/services/cli/target"
java -cp "$cli/test-classes:$cli/classes:$(cat "$cli/bench.cp")" io.modelpress.cli.PlannerBenchData "$work/data"
echo "profile $profile, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| model | judged on | status | original | chosen chain | compressed | ratio | drop | budget met | p50 before → after | candidates measured | planning |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for i in "${!models[@]}"; do
  out="$work/${models[$i]}"
  data=(--data-batch 1)
  [ -f "$work/data/${models[$i]}.npz" ] && data+=(--calibration "$work/data/${models[$i]}.npz")
  [ -f "$work/data/${models[$i]}.evaluation.npz" ] && data+=(--evaluation "$work/data/${models[$i]}.evaluation.npz")
  # exit 3: the planner kept the original; its report says why
  status=0
  "$root/bin/modelpress" compress "${paths[$i]}" --profile "$profile" --out "$out" "${data[@]}" "$@" \
      > "$work/log" 2>&1 || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    echo "| ${models[$i]} | failed: $(tail -1 "$work/log") |||||||||||"
    continue
  fi
  jq -r --arg model "${models[$i]}" '
    def mb: . / 1048576 | . * 100 | round / 100 | tostring + " MB";
    def ms: if . == null then "—" else (. * 100 | round / 100 | tostring) end;
    .planning as $p
    | [$model,
       (.judging.judgedOn + " (" + (.judging.judgingSamples | tostring) + " judge, " + (.judging.tuningSamples | tostring) + " tune)"),
       .status,
       (.original.bytes | mb),
       (if $p.chosen == null then "original kept (closest: " + ($p.closest.chain // [] | map(.pluginId) | join(" → ")) + ")" else ($p.chosen.chain | map(.pluginId) | join(" → ")) end),
       (.compressed.bytes | mb),
       ((.original.bytes / .compressed.bytes * 100 | round / 100 | tostring) + "x"),
       (($p.chosen // $p.closest) as $t | if $t == null or $t.drop == null then "not measured" else ($t.drop * 100 | round / 100 | tostring) + " pts" end),
       (if $p.metBudget then "yes" else "no" end),
       ((.benchmark.original.p50Millis | ms) + " → " + (.benchmark.compressed.p50Millis | ms) + " ms"),
       ([$p.trials[] | select(.outcome == "measured")] | length | tostring) + " of " + ($p.trials | length | tostring),
       (($p.planningMillis / 1000 * 10 | round / 10 | tostring) + " s")]
    | "| " + join(" | ") + " |"' "$out/report.json"
done
