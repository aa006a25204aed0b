#!/bin/bash
# facefleet app-tier user data, rendered by src/autoscaler/user-data.ts. The AMI already holds Node, the
# project in /opt/facefleet with its models, and the facefleet-worker@.service unit (see README, "Bake the
# app-tier AMI"); this only writes the worker's configuration and starts one worker per vCPU.
set -euo pipefail
install -d -m 0755 /etc/facefleet
cat > /etc/facefleet/worker.env <<'FACEFLEET_ENV'
{{WORKER_ENV}}
FACEFLEET_ENV
chmod 0644 /etc/facefleet/worker.env
for n in $(seq 1 "$(nproc)"); do
  systemctl enable --now "facefleet-worker@${n}.service"
done
