{{/*
Ingress only from the real callers: one rule per port, admitting the peers
listed under .Values.networkPolicy.ingress.<port name> (NetworkPolicyPeer
objects). A port without peers admits nobody. extraIngress rules are appended
as they are. Egress is not restricted (PostgreSQL, Kafka, SMTP, DNS and, for
runtime, the engines live outside the chart's knowledge).
*/}}
{{- define "galaxy-lib.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled -}}
{{- $peersByPort := .Values.networkPolicy.ingress | default dict -}}
{{- $rules := list -}}
{{- range $port := (include "galaxy-lib.allPorts" . | fromYaml).ports -}}
{{- $peers := get $peersByPort $port.name -}}
{{- if $peers -}}
{{- $rules = append $rules (dict "ports" (list (dict "port" $port.port "protocol" "TCP")) "from" $peers) -}}
{{- end -}}
{{- end -}}
{{- range .Values.networkPolicy.extraIngress -}}
{{- $rules = append $rules . -}}
{{- end -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "galaxy-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galaxy-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "galaxy-lib.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
  {{- if $rules }}
  ingress:
    {{- toYaml $rules | nindent 4 }}
  {{- else }}
  ingress: []
  {{- end }}
{{- end -}}
{{- end -}}
