#!/bin/bash
# facefleet app-tier user data, rendered by src/autoscaler/user-data.ts. The AMI already holds Node, the
# project in /opt/facefleet with its models, and the facefleet-worker@.service unit (see README, "Bake the
# app-tier AMI"); this only writes the worker's configuration and starts the workers. The image's
# facefleet-workers.service starts one per vCPU at this boot and every later one (a warm pool's restarts).
set -euo pipefail
install -d -m 0755 /etc/facefleet
cat > /etc/facefleet/worker.env <<'FACEFLEET_ENV'
{{WORKER_ENV}}
FACEFLEET_ENV
chmod 0644 /etc/facefleet/worker.env
systemctl start facefleet-workers.service
