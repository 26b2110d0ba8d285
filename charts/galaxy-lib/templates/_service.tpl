{{- define "galaxy-lib.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "galaxy-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galaxy-lib.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type | default "ClusterIP" }}
  selector:
    {{- include "galaxy-lib.selectorLabels" . | nindent 4 }}
  ports:
    {{- range (include "galaxy-lib.allPorts" . | fromYaml).ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
      {{- with .appProtocol }}
      appProtocol: {{ . }}
      {{- end }}
    {{- end }}
{{- end -}}
