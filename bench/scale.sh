#!/usr/bin/env bash
# Scale-out of the compressor service on a real Kafka broker and S3 server (child processes): the
# same 30 small models (an MLP each, pinned chain graph-cleanup, profile x86-vnni) through 1, 2 and
# 3 packaged instances in one consumer group on a six-partition topic, event-to-result p50/p95, and
# with three instances the hand-over after a SIGKILL and after a SIGTERM. Writes bench/scale.md.
# Usage: bench/scale.sh   (builds the compressor module and what it needs, without tests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
module=services/compressor
out=bench/scale.md
load() { cut -d' ' -f1-3 /proc/loadavg; }
./mvnw -B -ntp -o -q -pl "$module" -am package -DskipTests dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.cp >&2
# A copy of the service, so that a rebuild while the benchmark runs cannot pull it away.
rm -rf "$module/target/scale-service" && cp -r "$module/target/quarkus-app" "$module/target/scale-service"
before="$(load)"
figures="$(java -Xmx512m -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
  -Dmodelpress.service.jar="$module/target/scale-service/quarkus-run.jar" \
  -cp "$module/target/test-classes:$module/target/classes:$(cat $module/target/bench.cp)" \
  io.modelpress.compressor.ScaleBench "$module/target/scale-bench")"
after="$(load)"
{
  echo "# Scale-out: instances, throughput and hand-over"
  echo
  echo "Made by \`bench/scale.sh\` at commit $(git rev-parse --short HEAD) on $(date -u +%Y-%m-%dT%H:%MZ)."
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores,"
  echo "$(free -g | awk '/Mem:/{print $2}') GiB; load average before: $before, after: $after."
  echo "Command: \`bench/scale.sh\`. Each instance is the packaged service (\`quarkus-run.jar\`, -Xmx512m,"
  echo "\`MODELPRESS_MAX_IN_FLIGHT=1\`, benchmark warmup 1 and 3 iterations); each row runs on a fresh"
  echo "broker and S3 server; the input topic has 6 partitions; session timeout 8 s (the default)."
  echo
  echo "$figures"
  echo
  echo "On this 2-core machine, shared with other builds (see the load averages), all instances run"
  echo "on the same two cores, so the ratio between the rows is not the speed-up that more machines"
  echo "give: it shows contention and the cost of coordination (more JVMs, rebalances, per-instance"
  echo "warm-up). One instance with one model in flight leaves part of the two cores idle (much of a"
  echo "small model's work is single-threaded), which a second instance can take; past that, more"
  echo "instances only add JVMs on the same cores, and the order between the rows changes with the"
  echo "load that other builds put on the machine from one run to the next. On machines with cores"
  echo "to spare each instance adds one model in flight. Each instance's first model also pays"
  echo "the one-time start of the inference engines (DJL with ONNX Runtime and PyTorch, several seconds"
  echo "of CPU here), once per instance, inside these figures. A hand-over is the time from the"
  echo "signal until the group has all six partitions assigned to the remaining members (Kafka Admin"
  echo "\`describeConsumerGroups\`, polled every 100 ms): after SIGKILL it is bounded by the session"
  echo "timeout, after SIGTERM by the shutdown grace (1 s here) plus the leave-group rebalance. The"
  echo "last table stops one instance with SIGTERM five times while it plans and benchmarks a model in"
  echo "ONNX Runtime (an MLP 64-256-10, no chain pinned): the exit code and whether an hs_err file or"
  echo "a SIGSEGV/SIGBUS line appeared (\`-XX:ErrorFile\` per instance)."
} > "$out"
cat "$out"
