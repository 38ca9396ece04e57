{{/* Names, labels and the store URL shared by the templates. */}}

{{- define "tickpipe.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tickpipe.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* selector labels of one component: include "tickpipe.selector" (list . "process") */}}
{{- define "tickpipe.selector" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ $ctx.Chart.Name }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "tickpipe.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "tickpipe.secretName" -}}
{{- include "tickpipe.fullname" . -}}
{{- end -}}

{{/* The store URL built from store.type and its block (or store.url). */}}
{{- define "tickpipe.storeUrl" -}}
{{- $s := .Values.store -}}
{{- if $s.url -}}
{{- $s.url -}}
{{- else if eq $s.type "postgresql" -}}
{{- $p := $s.postgresql -}}
{{- $auth := $p.user | urlquery -}}
{{- if $p.password }}{{ $auth = printf "%s:%s" $auth ($p.password | urlquery) }}{{ end -}}
{{- printf "postgresql://%s@%s:%v/%s" $auth $p.host $p.port $p.database -}}
{{- with $p.params }}{{ printf "?%s" . }}{{ end -}}
{{- else if eq $s.type "clickhouse" -}}
{{- $c := $s.clickhouse -}}
{{- printf "clickhouse://%s:%v/%s?user=%s" $c.host $c.port $c.database ($c.user | urlquery) -}}
{{- if $c.password }}{{ printf "&password=%s" ($c.password | urlquery) }}{{ end -}}
{{- with $c.params }}{{ printf "&%s" . }}{{ end -}}
{{- else if eq $s.type "cassandra" -}}
{{- $c := $s.cassandra -}}
{{- $hosts := list -}}
{{- range $c.hosts }}{{ $hosts = append $hosts (printf "%s:%v" . $c.port) }}{{ end -}}
{{- $auth := "" -}}
{{- if $c.user }}{{ $auth = printf "%s:%s@" ($c.user | urlquery) ($c.password | urlquery) }}{{ end -}}
{{- printf "cassandra://%s%s/%s" $auth (join "," $hosts) $c.keyspace -}}
{{- with $c.params }}{{ printf "?%s" . }}{{ end -}}
{{- else -}}
{{- fail (printf "store.type %q: use postgresql, clickhouse or cassandra (or set store.url)" $s.type) -}}
{{- end -}}
{{- end -}}

{{/* -X key=value arguments for produce and process. */}}
{{- define "tickpipe.kafkaArgs" -}}
- --brokers
- {{ .Values.kafka.brokers | quote }}
{{- range $k, $v := .Values.kafka.properties }}
- -X
- {{ printf "%s=%v" $k $v | quote }}
{{- end }}
{{- if .Values.kafka.saslPassword }}
- -X
- "sasl.password=$(KAFKA_SASL_PASSWORD)"
{{- end }}
{{- end -}}

{{- define "tickpipe.kafkaEnv" -}}
- name: KAFKA_TOPIC_NAME
  valueFrom: {configMapKeyRef: {name: {{ include "tickpipe.fullname" . }}, key: KAFKA_TOPIC_NAME}}
- name: TICKPIPE_LOG
  valueFrom: {configMapKeyRef: {name: {{ include "tickpipe.fullname" . }}, key: TICKPIPE_LOG}}
{{- if .Values.kafka.saslPassword }}
- name: KAFKA_SASL_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ include "tickpipe.secretName" . }}, key: KAFKA_SASL_PASSWORD}}
{{- end }}
{{- end -}}

{{- define "tickpipe.storeEnv" -}}
- name: TICKPIPE_STORE
  valueFrom:
    secretKeyRef:
      name: {{ default (include "tickpipe.secretName" .) .Values.store.existingSecret }}
      key: TICKPIPE_STORE
{{- end -}}

{{/* pod-level settings shared by the three stages: (list . .Values.process) */}}
{{- define "tickpipe.podCommon" -}}
{{- $ctx := index . 0 -}}
{{- $c := index . 1 -}}
{{- with $ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $ctx.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
{{- with $c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir: {}
  - name: config
    configMap:
      name: {{ include "tickpipe.fullname" $ctx }}
      items: [{key: tickpipe.yaml, path: tickpipe.yaml}]
{{- end -}}

{{/* container-level settings shared by the three stages: (list . .Values.process) */}}
{{- define "tickpipe.containerCommon" -}}
{{- $ctx := index . 0 -}}
{{- $c := index . 1 -}}
image: {{ include "tickpipe.image" $ctx | quote }}
imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
securityContext:
  {{- toYaml $ctx.Values.securityContext | nindent 2 }}
resources:
  {{- toYaml $c.resources | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: config
    mountPath: /etc/tickpipe
    readOnly: true
{{- with $c.livenessProbe }}
livenessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.readinessProbe }}
readinessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* prometheus.io annotations of a pod serving /metrics on port: (list . port) */}}
{{- define "tickpipe.scrapeAnnotations" -}}
{{- $ctx := index . 0 -}}
{{- if $ctx.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ index . 1 | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* the config file (values: config), mounted by tickpipe.podCommon and tickpipe.containerCommon */}}
{{- define "tickpipe.configEnv" -}}
- name: TICKPIPE_CONFIG
  value: /etc/tickpipe/tickpipe.yaml
{{- end -}}
