{{/* Name of the chart, overridable. */}}
{{- define "aks-node-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: the release name if it already contains the chart name. */}}
{{- define "aks-node-agent.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "aks-node-agent.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "aks-node-agent.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "aks-node-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aks-node-agent.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Selector labels: immutable on a DaemonSet, so only name + instance. */}}
{{- define "aks-node-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aks-node-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The same app.kubernetes.io labels as deploy/base, plus Helm's own. */}}
{{- define "aks-node-agent.labels" -}}
{{ include "aks-node-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: aks-node-agent
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "aks-node-agent.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Space-separated disks[] and caches[] paths with writeProbe: true (the init container's PROBE_WRITE_PATHS). */}}
{{- define "aks-node-agent.probeWritePaths" -}}
{{- $paths := list }}
{{- range concat (.Values.config.disks | default list) (.Values.config.caches | default list) }}
{{- if .writeProbe }}{{ $paths = append $paths .path }}{{ end }}
{{- end }}
{{- join " " $paths }}
{{- end }}

{{/* The metrics port, from config.metrics.address (HOST:PORT). */}}
{{- define "aks-node-agent.metricsPort" -}}
{{- $addr := (.Values.config.metrics | default dict).address | default "0.0.0.0:9810" }}
{{- last (splitList ":" $addr) }}
{{- end }}
