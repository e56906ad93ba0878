#!/usr/bin/env python3
"""The Helm chart's toggles render what they say (tests/deploy/helm_chart_test.sh).

usage: check_helm_toggles.py ALL-ON.yaml AZURE.yaml REPO
ALL-ON.yaml: helm template -f tests/deploy/helm/all-on.yaml; AZURE.yaml: -f azure-managed.yaml.
"""
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
azure = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
repo = sys.argv[3]
by = {d["kind"]: d for d in docs}
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond: fails.append(what)
for kind in ("PodMonitor", "ServiceMonitor", "PrometheusRule"):
    o = by.get(kind, {})
    check(o.get("apiVersion") == "monitoring.coreos.com/v1", f"{kind} monitoring.coreos.com/v1")
    check(o.get("metadata", {}).get("labels", {}).get("release") == "kube-prometheus-stack", f"{kind} release label")
urls = [r["annotations"]["runbook_url"] for g in by["PrometheusRule"]["spec"]["groups"] for r in g["rules"]]
check(len(urls) >= 20 and all(u.startswith("https://wiki.example.com/aks-node-agent/runbooks#aksnode") for u in urls),
      "every runbook_url uses runbookBaseUrl")
src = open(f"{repo}/deploy/monitoring/rules/aks-node-agent.rules.yaml").read().replace(
    "https://github.com/e6data/aks-node-agent/blob/main/docs/runbooks.md", "https://wiki.example.com/aks-node-agent/runbooks")
check(by["PrometheusRule"]["spec"] == yaml.safe_load(src), "PrometheusRule = the rule file (runbook base replaced)")
cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard")]
check(len(cms) == 1 and cms[0]["metadata"]["namespace"] == "monitoring", "dashboard ConfigMap in namespace monitoring")
if cms:
    check(cms[0]["metadata"]["labels"].get("grafana_dashboard") == "1", "dashboard label grafana_dashboard=1")
    check(cms[0]["metadata"].get("annotations", {}).get("grafana_folder") == "Kubernetes", "grafana_folder annotation")
    check(json.loads(cms[0]["data"]["aks-node-agent.json"]) == json.load(open(f"{repo}/deploy/grafana/aks-node-agent.json")),
          "dashboard JSON = deploy/grafana/aks-node-agent.json")
pod = by["DaemonSet"]["spec"]["template"]["spec"]
env = {e["name"]: e for e in pod["containers"][0]["env"]}
check(env.get("HTTPS_PROXY", {}).get("value") == "http://proxy.internal:3128" and "NODE_IP" in env, "extraEnv")
init = {e["name"]: e.get("value") for e in pod["initContainers"][0]["env"]}
check(init["PROBE_WRITE_PATHS"] == "/mnt", "PROBE_WRITE_PATHS follows writeProbe of the config")
cfg = yaml.safe_load([d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config")][0]["data"]["config.yaml"])
check(cfg["drain"]["podGracePeriodCap"] == "20s" and cfg["drain"]["timeout"] == "120s", "config values merge into the defaults")
check(pod["imagePullSecrets"] == [{"name": "registry"}], "imagePullSecrets")
hooks = (cfg.get("notifications") or {}).get("webhooks") or []
check([(w.get("name"), w.get("urlFile"), w.get("format")) for w in hooks] ==
      [("ops-slack", "/etc/aks-node-agent-webhooks/ops-slack", "slack"),
       ("ops-teams", "/etc/aks-node-agent-webhooks/teams-url", "teams")],
      "notifications.webhooks become config entries with urlFile in the Secret mount")
check(hooks and hooks[0].get("on") == ["ScheduledEvent", "DrainFailed"] and True not in hooks[0],
      "a bare `on:` (YAML 1.1 true) is rendered as on")
check(all("url" not in w and "secretKey" not in w for w in hooks), "no URL and no secretKey in the ConfigMap")
secrets = [d for d in docs if d["kind"] == "Secret"]
check(len(secrets) == 1 and secrets[0]["metadata"]["name"] == "aks-node-agent-webhooks"
      and set(secrets[0].get("stringData", {})) == {"ops-slack", "teams-url"},
      "notifications.secret.create renders the Secret from urls")
vol = {v["name"]: v for v in pod["volumes"]}.get("webhooks", {})
check(vol.get("secret", {}).get("secretName") == "aks-node-agent-webhooks" and vol["secret"].get("optional") is True,
      "the webhooks Secret volume is optional")
sa = by["ServiceAccount"]["metadata"]["annotations"]["azure.workload.identity/client-id"]
check(sa == "11111111-2222-3333-4444-555555555555", "serviceAccount.annotations (workload identity client-id)")
az = {d["kind"]: d for d in azure}
check(az.get("PodMonitor", {}).get("apiVersion") == "azmonitoring.coreos.com/v1", "Azure Managed Prometheus: azmonitoring.coreos.com/v1 PodMonitor")
check("PrometheusRule" not in az, "Azure Managed Prometheus: no PrometheusRule unless asked")
sys.exit(1 if fails else 0)
