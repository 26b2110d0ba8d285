{{/* Environment from Secrets: the database URL, the optional bootstrap admin, extraSecretEnv. */}}
{{- define "galaxy-lib.secretEnv" -}}
{{- if and .Values.database .Values.database.enabled }}
- name: GALAXY_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret: name of the Secret holding GALAXY_DATABASE_URL" .Values.database.existingSecret }}
      key: {{ .Values.database.key | default "GALAXY_DATABASE_URL" }}
{{- end }}
{{- if and .Values.bootstrapAdmin .Values.bootstrapAdmin.existingSecret }}
- name: GALAXY_ADMIN_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.bootstrapAdmin.existingSecret }}
      key: {{ .Values.bootstrapAdmin.usernameKey | default "username" }}
- name: GALAXY_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.bootstrapAdmin.existingSecret }}
      key: {{ .Values.bootstrapAdmin.passwordKey | default "password" }}
{{- end }}
{{- range .Values.extraSecretEnv }}
- name: {{ required "extraSecretEnv[].name" .name }}
  valueFrom:
    secretKeyRef:
      name: {{ required "extraSecretEnv[].secretName" .secretName }}
      key: {{ required "extraSecretEnv[].key" .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{- define "galaxy-lib.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "galaxy-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galaxy-lib.labels" . | nindent 4 }}
spec:
  {{- if not (and .Values.autoscaling .Values.autoscaling.enabled) }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ .Values.revisionHistoryLimit | default 5 }}
  selector:
    matchLabels:
      {{- include "galaxy-lib.selectorLabels" . | nindent 6 }}
  {{- with .Values.strategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "galaxy-lib.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # Roll the pods when the non-secret configuration changes.
        checksum/config: {{ include "galaxy-lib.configData" . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "galaxy-lib.serviceAccountName" . }}
      # The services never talk to the Kubernetes API.
      automountServiceAccountToken: false
      # No <SERVICE>_PORT variables: they would collide with GALAXY_* settings.
      enableServiceLinks: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds | default 30 }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ include "galaxy-lib.name" . }}
          image: {{ include "galaxy-lib.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          securityContext:
            {{- toYaml .Values.securityContext | trim | nindent 12 }}
          ports:
            {{- range (include "galaxy-lib.allPorts" . | fromYaml).ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "galaxy-lib.fullname" . }}
          {{- $secretEnv := include "galaxy-lib.secretEnv" . | trim }}
          {{- if or $secretEnv .Values.extraEnv }}
          env:
            {{- with $secretEnv }}
            {{- . | trim | nindent 12 }}
            {{- end }}
            {{- with .Values.extraEnv }}
            {{- toYaml . | trim | nindent 12 }}
            {{- end }}
          {{- end }}
          {{- with .Values.probes.startup }}
          startupProbe:
            {{- include "galaxy-lib.probe" (list $ .) | trim | nindent 12 }}
          {{- end }}
          livenessProbe:
            {{- include "galaxy-lib.probe" (list $ (required "probes.liveness" .Values.probes.liveness)) | trim | nindent 12 }}
          readinessProbe:
            {{- include "galaxy-lib.probe" (list $ (required "probes.readiness" .Values.probes.readiness)) | trim | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | trim | nindent 12 }}
          volumeMounts:
            # The root filesystem is read-only; /tmp is the only scratch space.
            - name: tmp
              mountPath: /tmp
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | trim | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit | default "64Mi" }}
        {{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- tpl (toYaml .) $ | nindent 8 }}
      {{- end }}
{{- end -}}
