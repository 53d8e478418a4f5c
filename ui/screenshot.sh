#!/usr/bin/env bash
# Takes the README's screenshot of DL4J's training UI (docs/training-ui.png) from a real run: Hyper-Search on
# Fashion-MNIST, RepOpt-VGG-small trained with the searched scales while recording DL4J's UI statistics
# (--stats-file), then `./repopt ui` serves the recording on a free localhost port and headless Chromium (Debian
# `chromium`) photographs the overview page. Needs dataset-fashion-mnist and chromium; ./repopt builds the UI part.
# SUBSET (default 8000) training images, EPOCHS (default 2) epochs; OUT (default docs/training-ui.png); STATS=FILE
# photographs an existing recording instead of training. The work folder is kept when a step fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$root/docs/training-ui.png}"
subset="${SUBSET:-8000}"
epochs="${EPOCHS:-2}"
work="$(mktemp -d)"
ui_pid=""
done_ok=""
cleanup() {
  [ -n "$ui_pid" ] && kill "$ui_pid" 2>/dev/null
  if [ -n "$done_ok" ]; then rm -rf "$work"; else echo "work folder kept: $work" >&2; fi
}
trap cleanup EXIT

stats="${STATS:-$work/stats.dl4j}"
"$root/repopt" ui --help > /dev/null   # builds the command line with the UI first, if needed
if [ -z "${STATS:-}" ]; then
  "$root/repopt" search --subset "$subset" --epochs 1 --no-progress --out "$work/search"
  "$root/repopt" train --model repopt-vgg --scales "$work/search/scales.json" --subset "$subset" --epochs "$epochs" \
    --warmup-epochs 0 --no-progress --out "$work/run" --stats-file "$stats" --stats-every 5 --grad-mult-stats
  echo "Grad Mult effect, first and last lines of $work/run/grad-mult.jsonl:"
  head -n 1 "$work/run/grad-mult.jsonl"; tail -n 1 "$work/run/grad-mult.jsonl"
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$root/repopt" ui "$stats" --port "$port" &
ui_pid=$!
for _ in $(seq 120); do
  if curl -sf "http://localhost:$port/train/overview/data" | grep -q '"scoresIter" *: *\[ *[0-9]'; then break; fi
  sleep 1
done
curl -sf "http://localhost:$port/train/overview/data" | grep -q '"scoresIter" *: *\[ *[0-9]' \
  || { echo "the UI did not show the recorded session" >&2; exit 1; }
profile="$work/chromium-profile"
mkdir -p "$profile"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size=1400,940 --virtual-time-budget=20000 --screenshot="$work/shot.png" \
  "http://localhost:$port/train/overview" 2>"$work/chromium.log" || { cat "$work/chromium.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp "$work/shot.png" "$out.part" && mv "$out.part" "$out"
echo "screenshot: $out"
done_ok=1
