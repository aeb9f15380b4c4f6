#!/usr/bin/env bash
# Scale-out of the compressor service on a real Kafka broker and S3 server (child processes): the
# same 30 small models (an MLP each, pinned chain graph-cleanup, profile x86-vnni) through 1, 2 and
# 3 packaged instances in one consumer group on a six-partition topic, event-to-result p50/p95, and
# with three instances the hand-over after a SIGKILL and after a SIGTERM. Writes bench/scale.md and
# bench/scale.csv.
# Usage: bench/scale.sh   (builds the compressor module and what it needs, without tests)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start scale "$@"
module=services/compressor
./mvnw -B -ntp -o -q -pl "$module" -am package -DskipTests >&2
classpath="$(bench_classpath "$module")"
# A copy of the service, so that a rebuild while the benchmark runs cannot pull it away.
rm -rf "$module/target/scale-service" && cp -r "$module/target/quarkus-app" "$module/target/scale-service"
intro="Each instance is the packaged service (\`quarkus-run.jar\`, -Xmx512m, \`MODELPRESS_MAX_IN_FLIGHT=1\`,
benchmark of original and compressed: 1 warm-up round, at least 3 timed rounds); each row runs on a fresh broker
and S3 server; the input topic has 6 partitions; session timeout 8 s (the default).

All instances run on the same cores of this machine, so the ratio between the rows is not the speed-up that
more machines give: it shows contention and the cost of coordination (more JVMs, rebalances, per-instance
warm-up); the order between the rows changes with the load other work puts on the machine. Each instance's first
model also pays the one-time start of the inference engines, inside these figures. A hand-over is the time from
the signal until the group has all six partitions assigned to the remaining members (Kafka Admin
\`describeConsumerGroups\`, polled every 100 ms): after SIGKILL it is bounded by the session timeout, after
SIGTERM by the shutdown grace (1 s here) plus the leave-group rebalance. The last table stops one instance with
SIGTERM five times while it plans and benchmarks a model in ONNX Runtime (an MLP 64-256-10, no chain pinned): the
exit code and whether an hs_err file or a SIGSEGV/SIGBUS line appeared (\`-XX:ErrorFile\` per instance)."
bench_page "Scale-out: instances, throughput and hand-over" "$intro" \
  java -Xmx512m -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
  -Dmodelpress.service.jar="$module/target/scale-service/quarkus-run.jar" \
  -cp "$classpath" io.modelpress.compressor.ScaleBench "$module/target/scale-bench"
