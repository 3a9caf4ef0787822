{{/* Chart name, truncated to a DNS label. */}}
{{- define "botmem.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, with the chart name unless it contains it. */}}
{{- define "botmem.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "botmem.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "botmem.labels" -}}
helm.sh/chart: {{ include "botmem.chart" . }}
{{ include "botmem.baseSelectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "botmem.baseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "botmem.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The server's pods. The migration Job's pods carry component
migration instead, so the Service, PDB and ServiceMonitor never pick them. */}}
{{- define "botmem.selectorLabels" -}}
{{ include "botmem.baseSelectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "botmem.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "botmem.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "botmem.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Secret the pods read: existingSecret, or the chart's. */}}
{{- define "botmem.secretName" -}}
{{- .Values.existingSecret | default (include "botmem.fullname" .) }}
{{- end }}

{{/* "true" when the database is SQLite (one process per file). */}}
{{- define "botmem.isSqlite" -}}
{{- if hasPrefix "sqlite:" .Values.database.url }}true{{ end }}
{{- end }}

{{/* "true" when BOTMEM_DATABASE_URL is read from the Secret (else it is a
sqlite: URL set in the pod directly, next to an existingSecret). */}}
{{- define "botmem.databaseUrlInSecret" -}}
{{- if or (not .Values.existingSecret) (not (include "botmem.isSqlite" .)) }}true{{ end }}
{{- end }}

{{/* secret, publicKey, jwks or jwksUrl: how tokens are verified. */}}
{{- define "botmem.jwtType" -}}
{{- if .Values.jwt.type }}{{ .Values.jwt.type }}
{{- else if .Values.jwt.publicKey }}publicKey
{{- else if .Values.jwt.jwks }}jwks
{{- else if .Values.jwt.jwksUrl }}jwksUrl
{{- else }}secret
{{- end }}
{{- end }}

{{/* Where the PEM / JWKS files are mounted. */}}
{{- define "botmem.jwtDir" -}}/etc/botmem/jwt{{- end }}

{{/* Settings that are on/off switches in botmem: YAML 1.1 reads a bare
on/off as a boolean, so booleans become on/off again for these. */}}
{{- define "botmem.switchKeys" -}}BOTMEM_JANITOR BOTMEM_INTROSPECTION{{- end }}

{{/* One config value as the string botmem parses: whole numbers without
an exponent (YAML numbers arrive as float64: 1048576 would print as
1.048576e+06), switches as on/off, booleans as true/false. */}}
{{- define "botmem.configValue" -}}
{{- $key := index . 0 }}
{{- $value := index . 1 }}
{{- if kindIs "bool" $value }}
{{- if has $key (splitList " " (include "botmem.switchKeys" dict)) }}
{{- ternary "on" "off" $value }}
{{- else }}
{{- ternary "true" "false" $value }}
{{- end }}
{{- else if kindIs "float64" $value }}
{{- /* Nested, not `and`: Helm built with Go < 1.18 evaluates every
argument of `and`, and eq of a string and a float fails. */}}
{{- if eq $value (float64 (int64 $value)) }}{{ int64 $value }}{{ else }}{{ toString $value }}{{ end }}
{{- else }}
{{- toString $value }}
{{- end }}
{{- end }}

{{/* Environment shared by the server and the migration Job: the database
URL from the Secret (or the sqlite: URL directly). */}}
{{- define "botmem.databaseEnv" -}}
- name: BOTMEM_DATABASE_URL
{{- if include "botmem.databaseUrlInSecret" . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "botmem.secretName" . }}
      key: BOTMEM_DATABASE_URL
{{- else }}
  value: {{ .Values.database.url | quote }}
{{- end }}
{{- end }}

{{/* Refuses values that cannot work, before anything is applied. Included
by deployment.yaml. */}}
{{- define "botmem.validate" -}}
{{- $sqlite := include "botmem.isSqlite" . }}
{{- if and $sqlite (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- fail (printf "database.url is SQLite (%s): SQLite means exactly one replica (one process per database file), so replicaCount must be 1 and autoscaling.enabled false. Use PostgreSQL for several replicas." .Values.database.url) }}
{{- end }}
{{- if and (not .Values.existingSecret) (not .Values.database.url) }}
{{- fail "database.url is required (postgres://USER:PASSWORD@HOST:5432/DB), unless existingSecret names a Secret holding BOTMEM_DATABASE_URL" }}
{{- end }}
{{- if and .Values.existingSecret .Values.database.url (not $sqlite) }}
{{- fail "with existingSecret, BOTMEM_DATABASE_URL comes from that Secret: set database.url to \"\" (only a sqlite: URL may stay, as it holds no credential)" }}
{{- end }}
{{- range $key := list "BOTMEM_DATABASE_URL" "BOTMEM_JWT_SECRET" "BOTMEM_JWT_PUBLIC_KEY_FILE" "BOTMEM_JWT_JWKS_FILE" "BOTMEM_JWT_JWKS_URL" "BOTMEM_SHUTDOWN_GRACE_SECS" "BOTMEM_LISTEN" "BOTMEM_MIGRATE" "BOTMEM_METRICS_LISTEN" "BOTMEM_CONFIG" }}
{{- if hasKey $.Values.config $key }}
{{- fail (printf "config.%s: the chart sets %s itself (database.url, existingSecret, jwt.*, metrics.port, migration.enabled); remove it from config" $key $key) }}
{{- end }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (add (int .Values.preStopSleepSeconds) (int .Values.shutdownGraceSeconds)) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + shutdownGraceSeconds (%d + %d): Kubernetes would kill the pod while requests still finish" (int .Values.terminationGracePeriodSeconds) (int .Values.preStopSleepSeconds) (int .Values.shutdownGraceSeconds)) }}
{{- end }}
{{- $given := 0 }}
{{- range $k := list "secret" "publicKey" "jwks" }}
{{- if index $.Values.jwt $k }}{{ $given = add1 $given }}{{ end }}
{{- end }}
{{- if gt (add $given (ternary 1 0 (not (empty .Values.jwt.jwksUrl)))) 1 }}
{{- fail "set only one of jwt.secret, jwt.publicKey, jwt.jwks and jwt.jwksUrl: the key decides the accepted algorithms" }}
{{- end }}
{{- if and .Values.existingSecret (gt $given 0) }}
{{- fail "with existingSecret, the JWT key belongs in that Secret: leave jwt.secret, jwt.publicKey and jwt.jwks empty and set jwt.type" }}
{{- end }}
{{- $type := include "botmem.jwtType" . }}
{{- if and (not .Values.existingSecret) (ne $type "secret") (not (index .Values.jwt $type)) }}
{{- fail (printf "jwt.type is %s but jwt.%s is empty" $type $type) }}
{{- end }}
{{- if and .Values.jwt.secret (lt (len .Values.jwt.secret) 32) }}
{{- fail "jwt.secret must be at least 32 bytes (openssl rand -hex 32)" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set one of minAvailable and maxUnavailable, the other to null" }}
{{- end }}
{{- end }}
