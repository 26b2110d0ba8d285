{{/*
ConfigMap with the non-secret environment: every non-empty .Values.config
entry, plus one "<listenEnv>: 0.0.0.0:<port>" per port (containers listen on
all interfaces). Secrets never go here: see galaxy-lib.secretEnv.
*/}}
{{- define "galaxy-lib.configData" -}}
{{- $data := dict -}}
{{- range $k, $v := .Values.config -}}
{{- if not (kindIs "invalid" $v) -}}
{{- if ne (toString $v) "" -}}
{{- $_ := set $data $k (toString $v) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range (include "galaxy-lib.allPorts" . | fromYaml).ports -}}
{{- if .listenEnv -}}
{{- $_ := set $data .listenEnv (printf "0.0.0.0:%v" .port) -}}
{{- end -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{- define "galaxy-lib.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "galaxy-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galaxy-lib.labels" . | nindent 4 }}
data:
  {{- include "galaxy-lib.configData" . | nindent 2 }}
{{- end -}}
