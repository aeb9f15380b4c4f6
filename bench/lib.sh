# Shared by the bench/*.sh scripts (sourced, not run). Every page a script writes starts with the same stamp:
# the exact command, the commit, the machine and the load average before and after the run; every page has a
# raw CSV beside it. Paths in pages are relative to the repository, which the scripts run from.
#
#   bench_start NAME [ARGS...]    once, first, with the script's arguments: the page (bench/NAME.md, or $PAGE), its
#                                 CSV (beside it, or $CSV), the command as typed, the date and the load before
#   bench_classpath MODULE...     builds the modules' test classes offline, with the sibling modules of this
#                                 checkout (-am, nothing from ~/.m2 snapshots), and prints the first one's class path
#   bench_stamp                   the stamp lines (load after taken now)
#   bench_page TITLE INTRO CMD... runs CMD, whose standard output (markdown) is the figures, then writes the page:
#                                 title, stamp, INTRO, the figures verbatim; and the CSV: every row of every
#                                 markdown table in the figures (unless BENCH_OWN_CSV=1: the script wrote $BENCH_CSV)
set -euo pipefail
# A failing command inside $(...) stops the script too (a build that fails leaves no class path to run).
shopt -s inherit_errexit
bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$bench_root"

bench_load() { cut -d' ' -f1-3 /proc/loadavg; }

bench_start() {
  BENCH_NAME="$1"
  shift
  BENCH_COMMAND="bench/$(basename "$0")${*:+ $*}"
  BENCH_MD="${PAGE:-bench/$BENCH_NAME.md}"
  BENCH_CSV="${CSV:-${BENCH_MD%.md}.csv}"
  BENCH_DATE="$(date -u +%Y-%m-%dT%H:%MZ)"
  BENCH_LOAD_BEFORE="$(bench_load)"
  # Pages and CSVs this run rewrites do not make the checkout "changed".
  BENCH_COMMIT="$(git rev-parse --short HEAD)"
  git diff --quiet HEAD -- . ':(exclude)bench/*.md' ':(exclude)bench/*.csv' \
    || BENCH_COMMIT="$BENCH_COMMIT (with uncommitted changes)"
}

bench_machine() {
  local cpu memory java
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  memory="$(free -g | awk '/Mem:/{print $2}')"
  java="$(java -version 2>&1 | head -1)"
  echo "$cpu, $(nproc) cores, $memory GiB, $java"
}

bench_classpath() {
  local first="$1" modules
  modules="$(IFS=,; echo "$*")"
  ./mvnw -B -ntp -q -o -pl "$modules" -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
  echo "$first/target/test-classes:$first/target/classes:$(cat "$first/target/bench.cp")"
}

bench_stamp() {
  echo "Made by \`$BENCH_COMMAND\` at commit $BENCH_COMMIT on $BENCH_DATE."
  echo "Machine: $(bench_machine)."
  echo "Load average (1, 5, 15 min): $BENCH_LOAD_BEFORE before, $(bench_load) after (a shared machine: timings"
  echo "depend on it; sizes and fidelity do not). Raw CSV: [$(basename "$BENCH_CSV")]($(basename "$BENCH_CSV"))."
}

# Every markdown table row as CSV: the heading above the table, the table's number on the page, then its cells.
bench_tables_csv() {
  awk '
    function field(s) { gsub(/^ +| +$/, "", s); gsub(/`|\*\*/, "", s); gsub(/"/, "\"\"", s); return "\"" s "\"" }
    /^#/ { heading = $0; sub(/^#+ */, "", heading); inside = 0; next }
    /^\|/ {
      if (!inside) { table++; inside = 1 }
      if ($0 ~ /^\|[-:| ]+\|$/) next
      line = $0; sub(/^\|/, "", line); sub(/\|$/, "", line)
      n = split(line, cells, "|")
      out = field(heading) "," table
      for (i = 1; i <= n; i++) out = out "," field(cells[i])
      print out
      next
    }
    { inside = 0 }
  ' "$1"
}

bench_page() {
  local title="$1" intro="$2" figures
  shift 2
  figures="$("$@")"
  {
    echo "# $title"
    echo
    bench_stamp
    echo
    if [ -n "$intro" ]; then
      echo "$intro"
      echo
    fi
    echo "$figures"
  } > "$BENCH_MD"
  if [ "${BENCH_OWN_CSV:-0}" != 1 ]; then
    { echo '"heading","table","cells"'; bench_tables_csv "$BENCH_MD"; } > "$BENCH_CSV"
  fi
  cat "$BENCH_MD"
}
