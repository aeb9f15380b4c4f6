#!/usr/bin/env bash
# Transformer encoders fused before quantization, against the original and the published int8 peer.
# For each encoder: the fp32 original, the same after transformer-fusion, the published int8 model
# (Python-quantized, from the same Maven Central packages) and ours (the planner's chain:
# transformer-fusion:embed-layer-norm=false, then int8-dynamic:smooth=0.7,fidelity-target=0.997 in operator form, calibrated on 32 of
# bench/data/minilm-sentences.txt: activations smoothed strongest outliers first until the calibration
# sentences keep a cosine of 0.997, so fewer smoothing Muls than smoothing every one).
# Fidelity: mean-pooled embedding cosine to the fp32 original on bench/data/minilm-heldout.txt
# (100 sentences the calibration never saw), mean and worst. Latency: ONNX Runtime sessions in one
# process, inputs built before the timed region, 5 warm-up rounds discarded, every model once per
# round in a new random order, median/p10/p90 and the round count; the last column is the median over
# rounds of each model's time divided by the peer's in the same round.
#
# usage: bench/transformer.sh
#   THREADS=N  intra-op threads of every session (default 1: on a shared machine one thread per
#              session keeps the rounds comparable)
# Writes bench/transformer.md and the raw figures in bench/transformer.csv. Needs
# bench/models/fetch-models.sh (run here when a model is missing); builds what it needs offline.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start transformer "$@"
threads="${THREADS:-1}"
options="smooth=0.7,fidelity-target=0.997"
encoders=("minilm-l6" "bge-small-en-v15")
for name in "${encoders[@]}"; do
  for file in "$name.onnx" "$name-int8.onnx" "$name-vocab.txt"; do
    [[ -f "bench/models/cache/$file" ]] || bench/models/fetch-models.sh >&2
  done
done
classpath="$(bench_classpath plugins/quantization)"
rm -f "$BENCH_CSV"

figures() {
  for name in "${encoders[@]}"; do
    java -Xmx6g -cp "$classpath" io.modelpress.plugins.quantization.TransformerBenchmark bench/models/cache "$name" \
      "$name-int8.onnx" bench/data/minilm-sentences.txt bench/data/minilm-heldout.txt "$BENCH_CSV" "$threads" \
      "$options" 2> >(grep -v '^SLF4J' >&2)
  done
}

BENCH_OWN_CSV=1 bench_page "Transformer encoders: fused, then int8" \
"Ours: \`transformer-fusion:embed-layer-norm=false\` (the planner's chain: the embedding tables stay Gathers, whose
int8 tables stay int8 while running) then \`int8-dynamic:format=operator,$options\`, calibrated on 32 sentences of
bench/data/minilm-sentences.txt; fidelity on the 100 held-out sentences of bench/data/minilm-heldout.txt. ONNX
Runtime sessions with $threads intra-op thread(s)${THREADS:+ (THREADS=$threads)}." \
  figures
