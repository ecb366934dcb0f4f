#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (DESIGN §8: Playwright
# drives the system browser through executable_path; it never downloads one). Safe to run again:
# it does nothing when the browser is already there. Installing needs root (or sudo).
# Set LIMELIGHT_SKIP_BROWSER=1 to skip both this and the browser tests.
set -euo pipefail
if [ "${LIMELIGHT_SKIP_BROWSER:-0}" = "1" ]; then
  echo "browser: skipped (LIMELIGHT_SKIP_BROWSER=1)"
  exit 0
fi
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  echo "browser: installing Debian's chromium (once)"
  log="$(mktemp)"
  # apt's chatter goes to a log that is shown only if the install fails.
  if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends chromium; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "browser: could not install chromium (the browser tests will fail;" \
      "set LIMELIGHT_SKIP_BROWSER=1 to skip them)" >&2
    exit 1
  fi
  rm -f "$log"
fi
echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo "/usr/bin/chromium")"
