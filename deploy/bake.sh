#!/bin/bash
# Turns a fresh Amazon Linux 2023 or Ubuntu 22.04/24.04 instance into the facefleet image (README, "Deploy on
# AWS"). Run it as root from a checkout of the project on that instance:
#
#   sudo bash deploy/bake.sh
#
# It installs Node.js at the major version in .nvmrc (the official build, its checksum verified), copies the
# project to /opt/facefleet (without local state: node_modules, .facefleet/, models), installs its dependencies
# and the models (npm ci fetches them and checks their sha256), installs the systemd units of the worker, the
# web tier and the autoscaler (enabled later by the user data), and clears what must not be in an image
# (configuration, cloud-init's record of this boot). Then make the AMI from your machine:
#
#   npm run aws:image -- --instance i-…
#
# Safe to run again: each step checks what is there first.
set -euo pipefail

APP_DIR=/opt/facefleet
SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
# The project's runtime, one place for it: the same major version npm ci brings for development and CI.
NODE_MAJOR=$(tr -dc '0-9' < "${SOURCE_DIR}/.nvmrc")

if [[ $EUID -ne 0 ]]; then
  echo "bake.sh: run it as root (sudo bash deploy/bake.sh)" >&2
  exit 2
fi

echo "== packages"
# ffmpeg decodes classroom videos. Ubuntu's is maintained (security fixes): it is installed and preferred.
# Amazon Linux 2023 ships none: the workers fall back to the old static build that npm ci brings
# (@ffmpeg-installer/ffmpeg), and say so in their log; prefer Ubuntu for an image that takes videos.
# prlimit (util-linux), which runs ffmpeg under a memory limit, is on both.
if command -v dnf >/dev/null; then
  dnf install -y --quiet tar xz gzip util-linux
elif command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates curl xz-utils ffmpeg util-linux
else
  echo "bake.sh: neither dnf nor apt-get found; use Amazon Linux 2023 or Ubuntu" >&2
  exit 2
fi

echo "== Node.js ${NODE_MAJOR}"
if ! node --version 2>/dev/null | grep -q "^v${NODE_MAJOR}\."; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "bake.sh: unsupported CPU $(uname -m)" >&2; exit 2 ;;
  esac
  base="https://nodejs.org/dist/latest-v${NODE_MAJOR}.x"
  tmp=$(mktemp -d)
  curl -fsSL "${base}/SHASUMS256.txt" -o "${tmp}/SHASUMS256.txt"
  file=$(grep -o "node-v[0-9.]*-linux-${arch}.tar.xz" "${tmp}/SHASUMS256.txt" | head -n1)
  curl -fsSL "${base}/${file}" -o "${tmp}/${file}"
  (cd "$tmp" && grep " ${file}\$" SHASUMS256.txt | sha256sum -c -)
  tar -xJf "${tmp}/${file}" -C /usr/local --strip-components=1
  rm -rf "$tmp"
fi
# The units start /usr/bin/node.
ln -sf /usr/local/bin/node /usr/bin/node 2>/dev/null || true
node --version

echo "== user and project in ${APP_DIR}"
id facefleet >/dev/null 2>&1 || useradd --system --home-dir "$APP_DIR" --shell /usr/sbin/nologin facefleet
install -d -o facefleet -g facefleet "$APP_DIR"
tar -C "$SOURCE_DIR" --exclude=node_modules --exclude=.git --exclude=.facefleet --exclude='models/*.onnx' --exclude='facefleet.*.env' \
  --exclude=bench-results -cf - . | tar -C "$APP_DIR" -xf -
chown -R facefleet:facefleet "$APP_DIR"

echo "== dependencies and models (npm ci, which fetches the models and checks their sha256)"
sudo -u facefleet -H bash -c "cd '$APP_DIR' && npm ci --omit=dev --no-audit --no-fund"
sudo -u facefleet -H bash -c "cd '$APP_DIR' && npm run --silent fetch-models"

echo "== the CloudWatch agent (used only when a deployment ships its logs: LOG_SHIPPING=cloudwatch)"
if command -v dnf >/dev/null; then
  dnf install -y --quiet amazon-cloudwatch-agent
else
  # AWS's package, checked against its signature and AWS's key before it is installed.
  arch="$(dpkg --print-architecture)"
  base="https://amazoncloudwatch-agent.s3.amazonaws.com"
  work="$(mktemp -d)"
  curl -fsSLo "$work/agent.deb" "$base/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb"
  curl -fsSLo "$work/agent.deb.sig" "$base/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb.sig"
  curl -fsSLo "$work/agent.gpg" "$base/assets/amazon-cloudwatch-agent.gpg"
  gpg --batch --no-default-keyring --keyring "$work/keys.kbx" --import "$work/agent.gpg"
  gpg --batch --no-default-keyring --keyring "$work/keys.kbx" --verify "$work/agent.deb.sig" "$work/agent.deb"
  dpkg -i -E "$work/agent.deb"
  rm -rf "$work"
fi

echo "== systemd units"
install -m 0644 "$APP_DIR/deploy/app-tier/facefleet-worker@.service" /etc/systemd/system/
install -m 0644 "$APP_DIR/deploy/app-tier/facefleet-workers.service" /etc/systemd/system/
install -m 0644 "$APP_DIR/deploy/logs/facefleet-logs.service" /etc/systemd/system/
install -m 0644 "$APP_DIR/deploy/logs/facefleet-journal.service" /etc/systemd/system/
install -m 0644 "$APP_DIR/deploy/logs/facefleet.logrotate" /etc/logrotate.d/facefleet
install -m 0644 "$APP_DIR/deploy/web/facefleet-web.service" /etc/systemd/system/
install -m 0644 "$APP_DIR/deploy/web/facefleet-autoscaler.service" /etc/systemd/system/
install -m 0644 "$APP_DIR/deploy/web/facefleet-monitor.service" /etc/systemd/system/
systemctl daemon-reload
# The workers start at every boot once their configuration exists (an instance of the warm pool may never finish
# its first boot's user data): enabled here, in the image.
systemctl enable facefleet-workers.service
# Ships the units' logs when the deployment says so (it checks at each boot).
systemctl enable facefleet-logs.service

echo "== clean for imaging"
# Configuration comes from each instance's own user data; an image carries none, and no credentials ever.
rm -f /etc/facefleet/*.env
if command -v cloud-init >/dev/null; then cloud-init clean --logs; fi

echo "baked: now run, from your machine, npm run aws:image -- --instance <this instance's id>"
