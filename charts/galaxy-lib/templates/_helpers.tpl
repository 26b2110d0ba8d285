{{/*
Shared helpers. Objects are named after the chart (galaxy-auth, ...), not the
release, so the other charts reach a service at a stable address
(galaxy-auth:50051). Install one release of each chart per namespace; use
fullnameOverride to run two side by side.
*/}}

{{- define "galaxy-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "galaxy-lib.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "galaxy-lib.name" . -}}
{{- end -}}
{{- end -}}

{{- define "galaxy-lib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "galaxy-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "galaxy-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "galaxy-lib.labels" -}}
helm.sh/chart: {{ include "galaxy-lib.chart" . }}
{{ include "galaxy-lib.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Values.component | default "service" }}
app.kubernetes.io/part-of: galaxy
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "galaxy-lib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "galaxy-lib.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "galaxy-lib.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The container ports: .Values.ports plus the metrics port when enabled. */}}
{{- define "galaxy-lib.allPorts" -}}
{{- $ports := list -}}
{{- range .Values.ports -}}
{{- $ports = append $ports . -}}
{{- end -}}
{{- if and .Values.metrics .Values.metrics.enabled -}}
{{- $ports = append $ports (dict "name" "metrics" "port" (required "metrics.port" .Values.metrics.port) "listenEnv" "GALAXY_METRICS_LISTEN_ADDR") -}}
{{- end -}}
{{- toYaml (dict "ports" $ports) -}}
{{- end -}}

{{/* The port named by .Values.probes.port, or the first port. */}}
{{- define "galaxy-lib.probePort" -}}
{{- $want := .Values.probes.port | default (index .Values.ports 0).name -}}
{{- $found := "" -}}
{{- range .Values.ports -}}
{{- if eq .name $want -}}{{- $found = .port -}}{{- end -}}
{{- end -}}
{{- if not $found -}}{{- fail (printf "probes.port %q is not one of .Values.ports" $want) -}}{{- end -}}
{{- $found -}}
{{- end -}}

{{/*
One probe. handler grpc: the native gRPC probe (grpc.health.v1) on the probe
port; handler http: GET <path> on the probe port. The other keys of the probe's
values (periodSeconds, ...) are copied as they are.
*/}}
{{- define "galaxy-lib.probe" -}}
{{- $root := index . 0 -}}
{{- $probe := index . 1 -}}
{{- $port := include "galaxy-lib.probePort" $root | int -}}
{{- $handler := $root.Values.probes.handler | default "grpc" -}}
{{- if eq $handler "grpc" }}
grpc:
  port: {{ $port }}
  {{- with $probe.grpcService }}
  service: {{ . | quote }}
  {{- end }}
{{- else if eq $handler "http" }}
httpGet:
  path: {{ required "an http probe needs a path" $probe.path }}
  port: {{ $port }}
{{- else }}
{{- fail (printf "probes.handler must be grpc or http, not %q" $handler) }}
{{- end }}
{{- with (omit $probe "path" "grpcService") }}
{{ toYaml . }}
{{- end }}
{{- end -}}
