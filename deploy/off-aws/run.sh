#!/usr/bin/env bash
# The web tier, the autoscaler and the monitoring server on a host outside AWS, the app tier on AWS
# (docs/deployment.md, "The web tier off AWS"). Run from the project, after `npm ci`:
#
#   deploy/off-aws/run.sh facefleet.P.env ~/.config/facefleet/credentials P-web
#
# The deployment file is the one `npm run aws:provision` wrote; the credentials file holds the profile of the
# dedicated IAM user (or a credential_process for IAM Roles Anywhere) and must be readable by you alone.
# Nothing is written anywhere; Ctrl-C stops the three processes.
set -euo pipefail

usage() {
  echo "usage: $0 <deployment file> <credentials file> <profile>" >&2
  exit 2
}
[ $# -eq 3 ] || usage
env_file=$1
credentials=$2
profile=$3

[ -r "$env_file" ] || { echo "$0: cannot read the deployment file $env_file (npm run aws:provision writes it)" >&2; exit 2; }
[ -r "$credentials" ] || { echo "$0: cannot read the credentials file $credentials" >&2; exit 2; }
mode=$(stat -c '%a' "$credentials")
if [ "${mode:1}" != "00" ]; then
  echo "$0: $credentials is readable by others (mode $mode): chmod 600 it first; it holds a secret key" >&2
  exit 2
fi
case "$(realpath "$credentials")" in
  "$(realpath .)"/*)
    echo "$0: $credentials is inside the project: keep credentials outside it, where no commit can take them" >&2
    exit 2
    ;;
esac
grep -q "^\[$profile\]" "$credentials" || grep -q "^\[profile $profile\]" "$credentials" || {
  echo "$0: $credentials has no profile [$profile]" >&2
  exit 2
}

set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
export FACEFLEET_STACK=aws AWS_SHARED_CREDENTIALS_FILE=$credentials AWS_PROFILE=$profile
# The monitor keeps its reports beside the deployment file unless told otherwise.
export MONITOR_DB=${MONITOR_DB:-$(dirname "$(realpath "$env_file")")/facefleet-monitor.sqlite}

pids=()
stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait
}
trap stop INT TERM
npm run -s start:autoscaler & pids+=($!)
npm run -s monitor & pids+=($!)
npm run -s start:web & pids+=($!)
wait -n "${pids[@]}"
echo "$0: a process stopped; stopping the others" >&2
stop
exit 1
