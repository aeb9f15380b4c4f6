#!/usr/bin/env bash
# MiniLM (all-MiniLM-L6-v2) compressed with real sentences instead of generated token ids: the
# sentences become data with `modelpress data` and the model's own tokenizer.json, the planner
# chooses a chain for the profile with that data, and the chosen model is then compared with the
# original on other sentences that neither the tuning nor the judging saw.
#
# usage: bench/minilm-data.sh [PROFILE]
#   PROFILE defaults to x86-vnni. Writes bench/minilm-data.md (stamped by bench/lib.sh with the
#   command, the commit, the machine and its load) and bench/minilm-data.csv (the planner's
#   candidates); the raw outputs stay in target/minilm-data/. Needs the command line built
#   (packaged here when missing) and bench/models/fetch-models.sh run once.
#
# bench/data/minilm-sentences.txt: 200 English sentences, statements, questions and facts, for
# the planner; bench/data/minilm-heldout.txt: 100 other sentences (other subjects, verbs, objects,
# questions and facts) that the result is then measured on. Both written for this benchmark.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start minilm-data "$@"
here=bench
cache=bench/models/cache
out=target/minilm-data
profile="${1:-x86-vnni}"
modelpress=bin/modelpress
[ -f services/cli/target/modelpress-cli.jar ] || ./mvnw -q -B -o -pl services/cli -am package -DskipTests >&2

for file in minilm-l6.onnx minilm-l6-tokenizer.json; do
  [[ -f "$cache/$file" ]] || { echo "missing $cache/$file: run bench/models/fetch-models.sh" >&2; exit 2; }
done
rm -rf "$out" && mkdir -p "$out"

echo "data: 200 sentences, 32 tokens each (none is longer), with the model's tokenizer" >&2
"$modelpress" data "$cache/minilm-l6.onnx" --text "$here/data/minilm-sentences.txt" \
  --tokenizer "$cache/minilm-l6-tokenizer.json" --max-length 32 --out "$out/sentences.npz" > "$out/data.txt"
"$modelpress" data "$cache/minilm-l6.onnx" --text "$here/data/minilm-heldout.txt" \
  --tokenizer "$cache/minilm-l6-tokenizer.json" --max-length 32 --out "$out/heldout.npz" >> "$out/data.txt"

echo "compress for $profile, the planner choosing with that data" >&2
start=$(date +%s)
status=0
"$modelpress" compress "$cache/minilm-l6.onnx" --profile "$profile" --calibration "$out/sentences.npz" \
  --out "$out/$profile" > "$out/compress.txt" 2> "$out/progress.log" || status=$?
wall=$(( $(date +%s) - start ))
[[ $status -eq 0 || $status -eq 3 ]] || { cat "$out/compress.txt" "$out/progress.log" >&2; exit $status; }
report="$out/$profile/report.json"

echo "the chosen model against the original on 100 sentences it never saw" >&2
"$modelpress" bench "$cache/minilm-l6.onnx" "$out/$profile/model.onnx" --calibration "$out/heldout.npz" --data-batch 1 \
  --iterations 5 > "$out/heldout.txt" 2> /dev/null

{
  echo '"index","chain","outcome","bytes","drop_points","mean_cosine","worst_cosine","latency_ms","verdict"'
  jq -r '.planning.trials[] | [.index, (.chain | map(.pluginId + (if (.options | length) > 0
      then ":" + (.options | to_entries | map(.key + "=" + (.value | tostring)) | join(",")) else "" end))
      | join(" -> ")), .outcome, .bytes, .drop, ([.fidelity[]?.meanCosine] | min), ([.fidelity[]?.minCosine] | min),
      .latencyMillis, (.verdict // .error)] | @csv' "$report"
} > "$BENCH_CSV"
BENCH_OWN_CSV=1

page() {
cat <<EOF
- Model: all-MiniLM-L6-v2 (\`bench/models/fetch-models.sh\`), with its own \`tokenizer.json\`.
- Data: \`modelpress data\` turns the 200 sentences of \`bench/data/minilm-sentences.txt\` into
  \`input_ids\`, \`attention_mask\` and \`token_type_ids\` int64[200, 32]; the planner splits them by
  its documented rule (a seeded shuffle, the first third judges, the rest tunes).
- Then \`modelpress bench\` compares the chosen model with the original, sentence by sentence, on the 100 other sentences
  of \`bench/data/minilm-heldout.txt\`, which neither tuning nor judging saw.

## What the planner chose

$(jq -r '"Status **" + .status + "**, judged on " + .judging.judgedOn + " (" + (.judging.judgingSamples | tostring)
  + " samples judge, " + (.judging.tuningSamples | tostring) + " tune); planning took "
  + (.planning.planningMillis / 1000 | . * 10 | round / 10 | tostring) + " s on the planner'"'"'s clock ('"$wall"' s for the whole command, JVM start included)."' "$report")

| # | candidate | outcome | size | drop (points) | mean cosine | worst cosine | verdict |
| --- | --- | --- | --- | --- | --- | --- | --- |
$(jq -r 'def chain: .chain | map(.pluginId + (if (.options | length) > 0
      then ":" + (.options | to_entries | map(.key + "=" + (.value | tostring)) | join(",")) else "" end)) | join(" → ");
    def cosine: if . == null then "—" else . * 100000 | round / 100000 | tostring end;
    .planning.trials[] | ["", (.index | tostring), chain, .outcome,
      (if .outcome != "measured" then "—" else (.bytes / 1048576 * 10 | round / 10 | tostring) + " MiB" end),
      (if .drop == null then "—" else (.drop * 100 | round / 100 | tostring) end),
      ([.fidelity[]?.meanCosine] | min | cosine), ([.fidelity[]?.minCosine] | min | cosine),
      (.verdict // .error // "" | gsub("\\|"; "/")), ""] | join(" | ") | ltrimstr(" ") | rtrimstr(" ")' "$report")

The summary \`modelpress compress\` printed:

\`\`\`
$(cat "$out/compress.txt")
\`\`\`

## On sentences it never saw

\`\`\`
$(cat "$out/heldout.txt")
\`\`\`
EOF
}
bench_page "MiniLM compressed with real sentences (\`modelpress data\`)" "" page
