{{- define "keycloak.fullname" -}}{{ .Release.Name }}-keycloak{{- end -}}
{{- define "keycloak.labels" -}}
app.kubernetes.io/name: keycloak
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
