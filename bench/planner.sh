#!/usr/bin/env bash
# Runs the planner (`bin/modelpress compress` without --plugin) on real models for one profile and
# writes bench/planner.md: the stamp of bench/lib.sh (command, commit, machine, load average before
# and after), then a markdown table of what it chose, what that gained and lost, and how long
# planning took (the planner's own clock). The same rows go, raw, to the CSV beside it.
#
# Models get realistic calibration data (PlannerBenchData in the CLI's tests): images for the OCR
# models, feature frames for the wakeword model, voiced audio with a state and a sample rate for the
# Silero models, digits (and labelled held-out digits) for MNIST. MiniLM (bench/models/cache, from
# bench/models/fetch-models.sh) gets the 200 sentences of bench/data/minilm-sentences.txt turned into
# data by `modelpress data` and its own tokenizer; it is planned twice more: once under load (a busy
# loop per core, started and stopped here) and once with a 60 s time limit, to show the choice does
# not depend on either. Its choice is then measured on the 100 held-out sentences of
# bench/data/minilm-heldout.txt with `modelpress bench`.
#
# Usage: bench/planner.sh [profile] [extra compress options...]   (default profile x86-vnni)
#   Writes bench/planner.md (PAGE=path elsewhere) and its raw CSV beside it (CSV=path elsewhere).
#   MINILM=0   leaves MiniLM out; MINILM_VARIANTS=0 plans it once only (no loaded, no time-limited run)
#   BEFORE=csv an earlier run's CSV: adds a table of planning times and choices, before and after
# Packages the command line from this checkout when it is missing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root="$bench_root"
bench_start planner "$@"
profile="${1:-x86-vnni}"
shift || true
csv="$BENCH_CSV"
BENCH_OWN_CSV=1
[ -f "$root/services/cli/target/modelpress-cli.jar" ] || ./mvnw -q -B -o -pl services/cli -am package -DskipTests >&2

fixtures="$root/plugins/testkit/src/main/resources/io/modelpress/testkit/models"
cache="$root/bench/models/cache"
models=(wakeword-hello-deepa silero-vad-v4 silero-vad-v5 ocr-det ocr-rec ocr-cls mnist-mlp)
paths=()
for name in "${models[@]}"; do paths+=("$fixtures/$name.onnx"); done

work="$(mktemp -d)"
busy=()
cleanup() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
java -cp "$(bench_classpath services/cli)" io.modelpress.cli.PlannerBenchData "$work/data" >&2

# name|model file|label for the table|extra options|under load (1) or not
runs=()
for i in "${!models[@]}"; do runs+=("${models[$i]}|${paths[$i]}|${models[$i]}||0"); done
if [ "${MINILM:-1}" = 1 ] && [ -f "$cache/minilm-l6.onnx" ] && [ -f "$cache/minilm-l6-tokenizer.json" ]; then
  "$root/bin/modelpress" data "$cache/minilm-l6.onnx" --text "$root/bench/data/minilm-sentences.txt" \
    --tokenizer "$cache/minilm-l6-tokenizer.json" --max-length 32 --out "$work/data/minilm-l6.npz" >&2
  "$root/bin/modelpress" data "$cache/minilm-l6.onnx" --text "$root/bench/data/minilm-heldout.txt" \
    --tokenizer "$cache/minilm-l6-tokenizer.json" --max-length 32 --out "$work/minilm-heldout.npz" >&2
  runs+=("minilm-l6|$cache/minilm-l6.onnx|minilm-l6||0")
  if [ "${MINILM_VARIANTS:-1}" = 1 ]; then
    runs+=("minilm-l6|$cache/minilm-l6.onnx|minilm-l6, loaded||1")
    runs+=("minilm-l6|$cache/minilm-l6.onnx|minilm-l6, --time-limit 60s|--time-limit 60s|0")
  fi
fi

rows=()
echo "model,label,judged_on,judging_samples,tuning_samples,status,original_bytes,chosen_chain,compressed_bytes,ratio,drop_points,met_budget,p50_before_ms,p50_after_ms,measured,candidates,not_tried,planning_ms,load_1min" > "$csv"
for run in "${runs[@]}"; do
  IFS='|' read -r name file label extra loaded <<< "$run"
  out="$work/out-${#rows[@]}"
  data=(--data-batch 1)
  [ -f "$work/data/$name.npz" ] && data+=(--calibration "$work/data/$name.npz")
  [ -f "$work/data/$name.evaluation.npz" ] && data+=(--evaluation "$work/data/$name.evaluation.npz")
  read -r -a more <<< "$extra"
  if [ "$loaded" = 1 ]; then
    for _ in $(seq "$(nproc)"); do (while :; do :; done) & busy+=($!); done
  fi
  # exit 3: the planner kept the original; its report says why
  status=0
  "$root/bin/modelpress" compress "$file" --profile "$profile" --out "$out" "${data[@]}" "${more[@]}" "$@" \
      > "$work/log" 2>&1 || status=$?
  load_now="$(cut -d' ' -f1 /proc/loadavg)"
  [ "$loaded" = 1 ] && label="$label (1-min load $load_now)"
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  busy=()
  if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    rows+=("| $label | failed: $(tail -1 "$work/log") |||||||||||")
    continue
  fi
  [ "$name" = minilm-l6 ] && [ -z "${heldout:-}" ] && [ -f "$out/model.onnx" ] && \
    heldout="$("$root/bin/modelpress" bench "$file" "$out/model.onnx" --calibration "$work/minilm-heldout.npz" \
      --iterations 3 2> /dev/null | grep '^fidelity' || true)" && heldout_chain="$label"
  rows+=("$(jq -r --arg model "$label" '
    def mb: . / 1048576 | . * 100 | round / 100 | tostring + " MB";
    def ms: if . == null then "—" else (. * 100 | round / 100 | tostring) end;
    .planning as $p
    | [$model,
       (.judging.judgedOn + " (" + (.judging.judgingSamples | tostring) + " judge, " + (.judging.tuningSamples | tostring) + " tune)"),
       .status,
       (.original.bytes | mb),
       (if $p.chosen == null then "original kept (closest: " + ($p.closest.chain // [] | map(.pluginId) | join(" → ")) + ")" else ($p.chosen.chain | map(.pluginId + (if (.options // {}) == {} then "" else ":" + ([.options | to_entries[] | .key + "=" + (.value | tostring)] | join(",")) end)) | join(" → ")) end),
       (.compressed.bytes | mb),
       ((.original.bytes / .compressed.bytes * 100 | round / 100 | tostring) + "x"),
       (($p.chosen // $p.closest) as $t | if $t == null or $t.drop == null then "not measured" else ($t.drop * 100 | round / 100 | tostring) + " pts" end),
       (if $p.metBudget then "yes" else "no" end),
       ((.benchmark.original.p50Millis | ms) + " → " + (.benchmark.compressed.p50Millis | ms) + " ms"),
       ([$p.trials[] | select(.outcome == "measured")] | length | tostring) + " of " + ($p.trials | length | tostring)
         + ([$p.trials[] | select(.outcome == "not-tried" and ((.error // "") | test("time")))] | if length > 0 then ", " + (length | tostring) + " untried (time)" else "" end),
       (($p.planningMillis / 1000 * 10 | round / 10 | tostring) + " s")]
    | "| " + join(" | ") + " |"' "$out/report.json")")
  jq -r --arg model "$name" --arg lbl "$label" --arg load "$load_now" '
    .planning as $p
    | [$model, $lbl, .judging.judgedOn, .judging.judgingSamples, .judging.tuningSamples, .status, .original.bytes,
       (($p.chosen // $p.closest // {chain: []}).chain | map(.pluginId + (if (.options // {}) == {} then "" else ":" + ([.options | to_entries[] | .key + "=" + (.value | tostring)] | join(",")) end)) | join(" > ")),
       .compressed.bytes, (.original.bytes / .compressed.bytes * 1000 | round / 1000),
       (($p.chosen // $p.closest) as $t | if $t == null or $t.drop == null then "" else $t.drop end),
       $p.metBudget, (.benchmark.original.p50Millis // ""), (.benchmark.compressed.p50Millis // ""),
       ([$p.trials[] | select(.outcome == "measured")] | length), ($p.trials | length),
       ([$p.trials[] | select(.outcome == "not-tried" and ((.error // "") | test("time")))] | length),
       $p.planningMillis, $load]
    | @csv' "$out/report.json" >> "$csv"
done
page() {
cat <<'INTRO'
What it measures: `bin/modelpress compress MODEL --profile PROFILE` without `--plugin`, so the
planner tries every candidate chain the installed plugins allow for the profile, in its fixed
order, judges each in ONNX Runtime on data it did not tune on, and keeps the smallest result within
the profile's budget and fidelity floors, or keeps the original (`kept-original`). "planning" is
the planner's own clock (report.json `planning.planningMillis`): every candidate compressed, loaded
and judged; the JVM start, reading the data and the final timing of the choice are not in it.
"candidates measured" counts those judged (on the probe or on all the judging data) of all
candidates, with those a time limit left untried. "drop", in points: lost top-1 accuracy with
labelled data (MNIST), otherwise lost agreement with the original on the judging part.

Data: PlannerBenchData (the CLI's tests) makes 32 realistic inputs of batch 1 for the wakeword
model, the OCR models and the Silero models, and digits (with 2,000 labelled held-out digits) for
MNIST; MiniLM gets the 200 sentences of bench/data/minilm-sentences.txt through `modelpress data`
and its own tokenizer (32 tokens). MiniLM is planned three times: on the machine as it is, under
load (a busy loop per core, started and stopped by the script) and with `--time-limit 60s`.
INTRO
echo
echo "| model | judged on | status | original | chosen chain | compressed | ratio | drop | budget met | p50 before → after | candidates measured | planning |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ -n "${heldout:-}" ]; then
  echo
  echo "MiniLM's choice ($heldout_chain) on the 100 held-out sentences (\`modelpress bench\`):"
  echo
  echo '```'
  echo "$heldout"
  echo '```'
fi
# BEFORE=an earlier run's CSV: its planning times and choices beside these, row by row
if [ -n "${BEFORE:-}" ] && [ -f "$BEFORE" ]; then
  echo
  echo "Against an earlier run (\`$(realpath --relative-to="$root" "$BEFORE")\`): planning time and choice, row by row."
  echo
  echo "| run | planning before | planning after | chosen before | chosen after |"
  echo "|---|---|---|---|---|"
  python3 - "$BEFORE" "$csv" <<'PY'
import csv, sys
before = {row["label"]: row for row in csv.DictReader(open(sys.argv[1]))}
for row in csv.DictReader(open(sys.argv[2])):
    old = before.get(row["label"])
    def secs(r):
        return "—" if r is None else "%.1f s" % (int(r["planning_ms"]) / 1000)
    def chosen(r):
        if r is None:
            return "—"
        return (r["chosen_chain"] or "—") + ("" if r["met_budget"] == "true" else " (kept the original; closest)")
    print("| %s | %s | %s | %s | %s |" % (row["label"], secs(old), secs(row), chosen(old), chosen(row)))
PY
fi
}
bench_page "The planner on real models" "" page
