#!/usr/bin/env bash
# RSS of a `scripts/rgw` gateway's daemons idle, after storing MB of random bytes (aws s3 cp, multipart),
# after reading them back, and after deleting them (docs/rgw-facts.md, fact a).
#   scripts/rgw-probes/memory.sh /tmp/rgw.json 200
set -euo pipefail
json=$1 mb=${2:-200}
field() { python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, j))' "$json" "$1"; }
AWS_ACCESS_KEY_ID=$(field 'owner["accessKeyId"]')
AWS_SECRET_ACCESS_KEY=$(field 'owner["secretAccessKey"]')
AWS_DEFAULT_REGION=$(field region)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
s3() { aws --endpoint-url "$(field endpoint)" s3 "$@"; }
rss() {
  echo -n "$1:"
  for pid in $(field '" ".join(map(str, pids))'); do
    awk -v n="$(cat "/proc/$pid/comm")" '/VmRSS/ { r = $2 } /VmHWM/ { h = $2 } END { printf " %s %d MB (peak %d MB);", n, r / 1024, h / 1024 }' "/proc/$pid/status"
  done
  echo
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c "${mb}M" /dev/urandom >"$tmp/data"
rss idle
s3 cp --only-show-errors "$tmp/data" "s3://$(field bucket)/memory/data"
rss "after storing $mb MB"
s3 cp --only-show-errors "s3://$(field bucket)/memory/data" - | cmp - "$tmp/data"
rss "after reading it back (identical)"
s3 rm --only-show-errors "s3://$(field bucket)/memory/data"
sleep 5
rss "5 s after deleting it"
