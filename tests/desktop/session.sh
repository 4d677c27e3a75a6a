#!/usr/bin/env bash
# Runs a command as on a logged-in Linux desktop: an X server (Xvfb), a D-Bus session and an
# unlocked GNOME Keyring (empty password) providing the Secret Service. Keyring files and app
# settings go to a temporary XDG home, never the user's.
#   tests/desktop/session.sh node tests/desktop/main.mjs      the desktop app's test
#   tests/desktop/session.sh node bench/desktop/startup.mjs   its start-up benchmark
# (after `npm run build` and a cargo build of the workspace)
set -euo pipefail
cd "$(dirname "$0")/../.."
xdg=$(mktemp -d -t polder-desktop-xdg-XXXXXX)
trap 'rm -rf "$xdg"' EXIT
export XDG_DATA_HOME="$xdg/data" XDG_CONFIG_HOME="$xdg/config" XDG_CACHE_HOME="$xdg/cache" XDG_RUNTIME_DIR="$xdg/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export PATH="$HOME/.cargo/bin:$PATH"
# WebKitGTK under Xvfb paints nothing with compositing on (tauri#15936).
export WEBKIT_DISABLE_COMPOSITING_MODE=1
dbus-run-session -- bash -c '
  printf "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  xvfb-run -a -s "-screen 0 1600x1000x24" "$@"
' bash "$@"
