#!/usr/bin/env bash
# Transformer encoders fused before quantization, against the original and the published int8 peer.
# For each encoder: the fp32 original, the same after transformer-fusion, the published int8 model
# (Python-quantized, from the same Maven Central packages) and ours (transformer-fusion, then
# int8-dynamic:smooth=0.7,fidelity-target=0.997 in operator form, calibrated on 32 of
# bench/data/minilm-sentences.txt: activations smoothed strongest outliers first until the calibration
# sentences keep a cosine of 0.997, so fewer smoothing Muls than smoothing every one).
# Fidelity: mean-pooled embedding cosine to the fp32 original on bench/data/minilm-heldout.txt
# (100 sentences the calibration never saw), mean and worst. Latency: ONNX Runtime sessions in one
# process, inputs built before the timed region, 5 warm-up rounds discarded, every model once per
# round in a new random order, median/p10/p90 and the round count; the last column is the median over
# rounds of each model's time divided by the peer's in the same round.
#
# usage: bench/transformer.sh > bench/transformer.md
#   THREADS=N  intra-op threads of every session (default 1: on a shared machine one thread per
#              session keeps the rounds comparable)
# Prints the markdown page; the raw figures go to target/transformer/transformer.csv. Needs
# bench/models/fetch-models.sh (run here when a model is missing); builds what it needs offline.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
threads="${THREADS:-1}"
options="smooth=0.7,fidelity-target=0.997"
encoders=("minilm-l6" "bge-small-en-v15")
for name in "${encoders[@]}"; do
  for file in "$name.onnx" "$name-int8.onnx" "$name-vocab.txt"; do
    [[ -f "bench/models/cache/$file" ]] || bench/models/fetch-models.sh >&2
  done
done
./mvnw -q -o -B -pl plugins/quantization -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
module=plugins/quantization/target
out=target/transformer
rm -rf "$out" && mkdir -p "$out"

commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- services plugins bench || echo ' (with uncommitted changes)')"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "# Transformer encoders: fused, then int8"
echo
echo "- Command: \`bench/transformer.sh\`${THREADS:+ with THREADS=$threads}; raw figures in \`$out/transformer.csv\`."
echo "- Commit: $commit."
echo "- Machine: $cpu, $(nproc) cores, $(java -version 2>&1 | head -1); ONNX Runtime sessions with $threads intra-op thread(s)."
echo "- Load average (1, 5, 15 min) before: $load_before."
echo "- Ours: \`transformer-fusion\` then \`int8-dynamic:format=operator,$options\`, calibrated on 32 sentences of"
echo "  bench/data/minilm-sentences.txt; fidelity on the 100 held-out sentences of bench/data/minilm-heldout.txt."
for name in "${encoders[@]}"; do
  java -Xmx6g -cp "$module/test-classes:$module/classes:$(cat $module/bench.cp)" \
    io.modelpress.plugins.quantization.TransformerBenchmark bench/models/cache "$name" "$name-int8.onnx" \
    bench/data/minilm-sentences.txt bench/data/minilm-heldout.txt "$out/transformer.csv" "$threads" "$options" \
    2> >(grep -v '^SLF4J' >&2)
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
