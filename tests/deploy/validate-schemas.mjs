// Validate every object of the rendered manifests against the Kubernetes and
// prometheus-operator OpenAPI schemas, offline (npm packages kubernetes-models
// and @kubernetes-models/prometheus-operator, pinned in package.json).
//   node tests/deploy/validate-schemas.mjs RENDERED.yaml...
// Exit 0: every object valid; 1: a schema error or an unknown kind (named).
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

const PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

async function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const pkg = PACKAGES[group] ?? "kubernetes-models";
  const mod = await import(`${pkg}/${apiVersion}`);
  const cls = mod[kind];
  if (typeof cls !== "function") throw new Error(`no schema for ${apiVersion} ${kind}`);
  return cls;
}

let failures = 0;
let count = 0;
for (const file of process.argv.slice(2)) {
  const docs = yaml.loadAll(readFileSync(file, "utf8")).filter((d) => d != null);
  for (const obj of docs) {
    const what = `${file}: ${obj.apiVersion} ${obj.kind} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name}`;
    count += 1;
    try {
      const Model = await modelFor(obj.apiVersion, obj.kind);
      new Model(obj).validate();
    } catch (err) {
      failures += 1;
      console.error(`INVALID ${what}: ${err.message}`);
    }
  }
}
if (count === 0) {
  console.error("no objects to validate");
  process.exit(1);
}
console.log(`schema validation: ${count - failures}/${count} objects valid`);
process.exit(failures ? 1 : 0);
