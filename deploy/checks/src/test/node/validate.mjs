// Validates Kubernetes documents against the JSON schemas of the kubernetes-models packages
// (Kubernetes, KEDA, Prometheus operator): types, required fields, enums. Strimzi resources are
// checked on the Java side with Strimzi's own model. Reads a JSON array of documents from the
// file named by the first argument; prints one line per problem and exits 1 if there is any.
import { readFileSync } from "node:fs";

// apiVersion group -> module prefix holding one file per kind
const groups = new Map([
  ["keda.sh", "@kubernetes-models/keda/keda.sh"],
  ["monitoring.coreos.com", "@kubernetes-models/prometheus-operator/monitoring.coreos.com"],
]);
const skipped = new Set(["kafka.strimzi.io"]);

function modulePath(apiVersion) {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return `kubernetes-models/${apiVersion}`;
  const group = apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (skipped.has(group)) return null;
  const prefix = groups.get(group) ?? `kubernetes-models/${group}`;
  return `${prefix}/${version}`;
}

const documents = JSON.parse(readFileSync(process.argv[2], "utf8"));
const problems = [];
let checked = 0;
for (const doc of documents) {
  const where = `${doc.kind}/${doc.metadata?.name}`;
  const path = modulePath(String(doc.apiVersion));
  if (path === null) continue;
  let model;
  try {
    model = (await import(`${path}/${doc.kind}`))[doc.kind];
  } catch (e) {
    problems.push(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
    continue;
  }
  try {
    new model(doc).validate();
    checked++;
  } catch (e) {
    problems.push(`${where}: ${e.message.replaceAll("\n", "; ")}`);
  }
}
for (const problem of problems) console.log(problem);
console.log(`checked ${checked}`);
process.exit(problems.length === 0 ? 0 : 1);
