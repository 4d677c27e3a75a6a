#!/usr/bin/env bash
# Runs a command as on a logged-in Linux desktop: an X server (Xvfb), a D-Bus session and GNOME
# Keyring providing the Secret Service with an unlocked default ("login") keyring. Keyring files
# and app settings go to a temporary XDG home, never the user's.
#   tests/desktop/session.sh node tests/desktop/main.mjs      the desktop app's test
#   tests/desktop/session.sh node bench/desktop/startup.mjs   its start-up benchmark
# (after `npm run build` and a cargo build of the workspace)
set -euo pipefail
cd "$(dirname "$0")/../.."
xdg=$(mktemp -d -t polder-desktop-xdg-XXXXXX)
# The document portal (started when the app opens a file dialog) may still have its FUSE mount
# under run/doc for a moment after the session ends: unmount it and retry, never failing the run.
cleanup() {
    for _ in $(seq 20); do
        rm -rf "$xdg" 2>/dev/null && return 0
        fusermount -uz "$xdg/run/doc" 2>/dev/null || umount -l "$xdg/run/doc" 2>/dev/null || true
        sleep 0.25
    done
    echo "session.sh: could not remove $xdg" >&2
}
trap cleanup EXIT
export XDG_DATA_HOME="$xdg/data" XDG_CONFIG_HOME="$xdg/config" XDG_CACHE_HOME="$xdg/cache" XDG_RUNTIME_DIR="$xdg/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR" "$xdg/fb"
# Xvfb keeps its screen in this file (XWD format): screenshots of what really reached the display.
export POLDER_XVFB_SCREEN="$xdg/fb/Xvfb_screen0"
chmod 700 "$XDG_RUNTIME_DIR"
export PATH="$HOME/.cargo/bin:$PATH"
# WebKitGTK under Xvfb paints nothing with compositing on (tauri#15936).
export WEBKIT_DISABLE_COMPOSITING_MODE=1
# A login keyring kept in plain text (test secrets only), unlocked over D-Bus as a desktop login
# would: no password prompt, which a headless session could not answer.
mkdir -p "$XDG_DATA_HOME/keyrings"
printf '[keyring]\ndisplay-name=login\nctime=0\nmtime=0\nlock-on-idle=false\nlock-after=false\n' >"$XDG_DATA_HOME/keyrings/login.keyring"
printf 'login' >"$XDG_DATA_HOME/keyrings/default"
chmod 600 "$XDG_DATA_HOME/keyrings/"*
dbus-run-session -- bash -c '
  gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
  for _ in $(seq 50); do
    gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
      --method org.freedesktop.Secret.Service.Unlock "[objectpath \"/org/freedesktop/secrets/collection/login\"]" >/dev/null 2>&1 && break
    sleep 0.1
  done
  xvfb-run -a -s "-screen 0 1600x1000x24 -fbdir $(dirname "$POLDER_XVFB_SCREEN")" "$@"
' bash "$@"
