#!/usr/bin/env bash
# The demo: set up, fetch and load MovieLens-100K, train what exists, then serve the API and
# pages on http://127.0.0.1:8000 with a fresh admin API key.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LIMELIGHT_DATA_DIR="${LIMELIGHT_DATA_DIR:-$PWD/data/demo}"
limelight=.venv/bin/limelight
"$limelight" data fetch movielens-100k
"$limelight" data load movielens-100k
if "$limelight" train --help >/dev/null 2>&1; then
  "$limelight" train
fi
key="$("$limelight" keys create --scope admin --name "demo-$(date +%Y%m%d-%H%M%S)")"
echo
echo "Admin API key: $key"
echo "Try: curl -H \"Authorization: Bearer $key\" http://127.0.0.1:8000/v1/users/1/profile"
echo
exec "$limelight" serve --host 127.0.0.1 --port 8000
