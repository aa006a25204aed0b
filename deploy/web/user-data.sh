#!/bin/bash
# facefleet web-instance user data, rendered by `npm run aws:web` (src/deploy/web-environment.ts). The AMI is
# the baked app-tier image (Node, the project in /opt/facefleet, the units; see README, "Deploy on AWS"); this
# writes the deployment's configuration, as `npm run aws:provision` wrote it, and starts the web tier, the
# autoscaler and the monitoring server (a web group's instance: the web tier only). No credentials: the SDK takes them from the instance profile.
set -euo pipefail
install -d -m 0755 /etc/facefleet
cat > /etc/facefleet/web.env <<'FACEFLEET_ENV'
{{WEB_ENV}}
FACEFLEET_ENV
chmod 0644 /etc/facefleet/web.env
# The secret the web tier shows the monitor when it forwards its clients' reports (MONITOR_FORWARD_TOKEN): made
# here, on this instance, in a file only root reads; never in user data, which anyone with ec2:Describe* reads.
umask 077
echo "MONITOR_FORWARD_TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" > /etc/facefleet/forward.env
systemctl enable --now {{UNITS}}
