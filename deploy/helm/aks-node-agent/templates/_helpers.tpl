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

{{/* The Secret with the webhook URLs (one key per webhook), mounted at /etc/aks-node-agent-webhooks. */}}
{{- define "aks-node-agent.webhooksSecretName" -}}
{{- default (printf "%s-webhooks" (include "aks-node-agent.fullname" .)) .Values.notifications.secret.name }}
{{- end }}

{{/* A webhook entry with a bare `on:` key restored: Helm reads values as YAML 1.1, where on is true. */}}
{{- define "aks-node-agent.webhookEntry" -}}
{{- $hook := omit . "true" }}
{{- if hasKey . "true" }}{{ $_ := set $hook "on" (get . "true") }}{{ end }}
{{- toJson $hook }}
{{- end }}

{{/* The agent's config: the `config` value, plus notifications.webhooks with their urlFile in the Secret mount. */}}
{{- define "aks-node-agent.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $hooks := list }}
{{- range (($config.notifications | default dict).webhooks | default list) }}
{{- $hooks = append $hooks (include "aks-node-agent.webhookEntry" . | fromJson) }}
{{- end }}
{{- range .Values.notifications.webhooks }}
{{- $hook := omit (include "aks-node-agent.webhookEntry" . | fromJson) "secretKey" }}
{{- $_ := set $hook "urlFile" (printf "/etc/aks-node-agent-webhooks/%s" (.secretKey | default .name)) }}
{{- $hooks = append $hooks $hook }}
{{- end }}
{{- if $hooks }}
{{- $notifications := deepCopy ($config.notifications | default dict) }}
{{- $_ := set $notifications "webhooks" $hooks }}
{{- $_ := set $config "notifications" $notifications }}
{{- end }}
{{- toYaml $config }}
{{- end }}
