#!/usr/bin/env bash
# Times `bin/modelpress inspect` on the ~86 MiB all-MiniLM-L6-v2 transformer: whole command,
# JVM start included, median of N runs (default 5). Fetches the model on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
models="$root/bench/models/cache"
[ -f "$models/minilm-l6.onnx" ] || "$root/bench/models/fetch-models.sh" "$models" >&2
[ -f "$root/services/cli/target/modelpress-cli.jar" ] || (cd "$root" && ./mvnw -q -B -DskipTests install)

times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "$root/bin/modelpress" inspect "$models/minilm-l6.onnx" > /dev/null
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "inspect minilm-l6.onnx ($(stat -c %s "$models/minilm-l6.onnx") bytes): runs ${times[*]} ms, median ${sorted[$((runs / 2))]} ms"
