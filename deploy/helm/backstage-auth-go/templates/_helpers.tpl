{{- define "authbackend.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "authbackend.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "authbackend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "authbackend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "authbackend.labels" -}}
{{ include "authbackend.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: backstage
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "authbackend.secretName" -}}
{{- default (include "authbackend.fullname" .) .Values.sessionSecret.existingSecret -}}
{{- end -}}

{{/* Seconds of a Go/Backstage duration the chart itself writes ("5s", "1m"). */}}
{{- define "authbackend.seconds" -}}
{{- $d := toString . -}}
{{- if not (regexMatch "^[0-9]+(ms|s|m)$" $d) -}}
{{- fail (printf "shutdown durations must be written as <n>ms, <n>s or <n>m, got %q" $d) -}}
{{- else if hasSuffix "ms" $d -}}{{ div (trimSuffix "ms" $d | int) 1000 }}
{{- else if hasSuffix "s" $d -}}{{ trimSuffix "s" $d | int }}
{{- else -}}{{ mul (trimSuffix "m" $d | int) 60 }}
{{- end -}}
{{- end -}}

{{/* The app-config with the keys the chart owns merged over it. */}}
{{- define "authbackend.appConfig" -}}
{{- $own := dict
  "backend" (dict "listen" (dict "host" "0.0.0.0" "port" 7007))
  "authbackend" (dict "shutdown" (dict "delay" .Values.shutdown.delay "gracePeriod" .Values.shutdown.gracePeriod)) -}}
{{- if .Values.metrics.enabled -}}
{{- $_ := set $own.authbackend "metrics" (dict "listen" (printf "0.0.0.0:%d" (int .Values.metrics.port))) -}}
{{- end -}}
{{- mergeOverwrite (deepCopy .Values.appConfig) $own | toYaml -}}
{{- end -}}
