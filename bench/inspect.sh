#!/usr/bin/env bash
# Times `bin/modelpress inspect` on the ~86 MiB all-MiniLM-L6-v2 transformer: whole command, JVM start included,
# N runs (default 5), and writes bench/inspect.md and bench/inspect.csv. Fetches the model on first use.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start inspect "$@"
runs="${1:-5}"
models=bench/models/cache
[ -f "$models/minilm-l6.onnx" ] || bench/models/fetch-models.sh "$models" >&2
[ -f services/cli/target/modelpress-cli.jar ] || ./mvnw -q -B -o -pl services/cli -am package -DskipTests >&2

figures() {
  local times=() start sorted
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    bin/modelpress inspect "$models/minilm-l6.onnx" > /dev/null
    times+=($(( ($(date +%s%N) - start) / 1000000 )))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  echo "| model | bytes | runs (ms) | median (ms) |"
  echo "| --- | ---: | --- | ---: |"
  echo "| minilm-l6.onnx | $(stat -c %s "$models/minilm-l6.onnx") | ${times[*]} | ${sorted[$((runs / 2))]} |"
}
bench_page "inspect of a ~86 MiB transformer" \
"\`bin/modelpress inspect\` on all-MiniLM-L6-v2, the whole process each time (JVM start included): it parses the
protobuf, validates every tensor's length, indexes the weights, hashes the file and prints the summary." figures
