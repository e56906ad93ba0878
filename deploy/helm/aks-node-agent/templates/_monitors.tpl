{{/* API group of the PodMonitor/ServiceMonitor: prometheus-operator or Azure Managed Prometheus. */}}
{{- define "aks-node-agent.monitorApiVersion" -}}
{{- if .Values.azureManagedPrometheus.enabled }}azmonitoring.coreos.com/v1{{ else }}monitoring.coreos.com/v1{{ end }}
{{- end }}

{{/* One scrape endpoint: job="aks-node-agent", the agent's labels kept, node=<node name>. */}}
{{- define "aks-node-agent.scrapeEndpoint" -}}
- port: metrics
  path: /metrics
  # A spot eviction gives 30 s notice: scrape often enough to see it.
  interval: {{ .interval }}
  scrapeTimeout: {{ .scrapeTimeout }}
  # Keep the agent's endpoint/namespace labels (not exported_*); alerts and
  # dashboard use imds_endpoint/pod_namespace, which no target label shadows.
  honorLabels: true
  relabelings:
    - sourceLabels: [__meta_kubernetes_pod_node_name]
      targetLabel: node
      action: replace
{{- end }}

{{/* Azure Managed Prometheus drops series over these limits unless they are set (its CRD templates). */}}
{{- define "aks-node-agent.azureLimits" -}}
labelLimit: 63
labelNameLengthLimit: 511
labelValueLengthLimit: 1023
{{- end }}
