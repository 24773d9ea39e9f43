// @kube-heapdump/heapdump: the Pulumi component HeapDumpEnabledApp (type token
// heapdump:index:HeapDumpEnabledApp) and its pure builders arrive with issue 5. Nothing is exported yet.
export {};
