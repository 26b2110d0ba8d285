{{- define "galaxy-lib.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "galaxy-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galaxy-lib.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "galaxy-lib.selectorLabels" . | nindent 6 }}
  {{- if .Values.podDisruptionBudget.minAvailable }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable | default 1 }}
  {{- end }}
{{- end -}}
{{- end -}}
