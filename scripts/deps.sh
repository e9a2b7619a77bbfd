#!/bin/sh
# Install the Debian packages firelane needs to build and test
# (scripts/deps.sh plate-model: and to train the plate reader).
# As root it runs apt-get; otherwise it prints the exact line to run.
# Idempotent: it only asks for what is missing.
set -eu

PKGS="build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
libopencv-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev
libyaml-dev libjansson-dev libsodium-dev libsqlite3-dev sqlite3 ffmpeg fonts-noto-cjk python3
libpaho-mqtt-dev mosquitto mosquitto-clients libgpiod-dev libcurl4-openssl-dev
libmicrohttpd-dev libqrencode-dev zlib1g-dev libicu-dev nginx chromium curl jq openssl procps
zbar-tools postgresql libpq-dev
systemd mmdebstrap groff-base file dpkg-dev"
# make deb: CPack finds the programs with file and their libraries with
# dpkg-shlibdeps (dpkg-dev); neither is in a minimal Debian. make
# test-packages installs the packages into a fresh root (mmdebstrap) and
# checks the units (systemd-analyze, in systemd); groff checks the man
# pages (style.man). dpkg-deb, setpriv and unshare are essential.
# postgresql: the store's tests start their own server (initdb, postgres
# from /usr/lib/postgresql/N/bin; tests/integration/lib/harness.sh,
# pg_start); libpq-dev: the PostgreSQL backend of the store (optional: the
# hub builds without it).
# libqrencode draws the enrolment code's QR code (the hub); zbarimg
# (zbar-tools) reads it back in tests/integration/enrol_code.sh.
# The plate reader's renderer (model/plates/render.py) draws test plates with
# numpy, PIL and OpenCV's Python binding, in these Debian fonts.
PKGS="$PKGS python3-numpy python3-pil python3-opencv fonts-opendin
fonts-wqy-zenhei fonts-roboto-unhinted fonts-dejavu-extra fonts-liberation
fonts-urw-base35"
# The RTSP test camera (src/tools/testcam, docs/testcam.md) is Python on
# GStreamer's RTSP server: its bindings, the MP4 demuxer and RTP payloaders
# (good), the H.264/H.265 parsers (bad).
PKGS="$PKGS python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
# Training the reader (make plate-model) also needs torch; make test does not.
[ "${1:-}" = plate-model ] && PKGS="$PKGS python3-torch"
# The browser tests drive Debian's chromium with playwright-core from npm
# (tests/browser); node and npm come from Debian where the machine has none.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "firelane: missing packages; run as root:" >&2
	echo "  apt-get update && $line" >&2
	exit 1
fi
echo "firelane: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
