#!/usr/bin/env sh
# Run one `manage.py` command on a Fly machine of the app and exit with that command's own exit code
# (0 good, 1 failed, 2 error lines …), whatever flyctl does with it: the remote shell prints the code
# on a line of its own, and this script reads it back.
#
#   FLY_APP=timedify-ops scripts/fly-manage.sh health_check
#   make after-deploy MANAGE=scripts/fly-manage.sh URL=https://timedify-ops.fly.dev
set -u
app="${FLY_APP:?set FLY_APP to the Fly app of timedify-ops}"
fly="$(command -v flyctl || command -v fly || true)"
[ -n "$fly" ] || { echo "fly-manage: flyctl is not installed (https://fly.io/docs/flyctl/install/)" >&2; exit 3; }
[ "$#" -gt 0 ] || { echo "usage: fly-manage.sh COMMAND [ARGS…]" >&2; exit 64; }

# Quote every argument for the remote shell.
remote="python manage.py"
for arg in "$@"; do
  remote="$remote '$(printf %s "$arg" | sed "s/'/'\\\\''/g")'"
done
marker="__timedify_exit__"
output="$(mktemp)"
trap 'rm -f "$output"' EXIT
# The image's working directory (Dockerfile: WORKDIR /app). The remote script travels base64-encoded,
# so it survives however flyctl and the machine split and quote the command line.
dir="${FLY_APP_DIR:-/app}"
script="$(printf "cd '%s' && %s; echo %s\$?\n" "$dir" "$remote" "$marker" | base64 | tr -d '\n')"
"$fly" ssh console --app "$app" --command "sh -c \"echo $script | base64 -d | sh\"" | tee "$output" | grep -v "^$marker"
code="$(sed -n "s/^$marker\([0-9]*\).*/\1/p" "$output" | tail -n 1)"
if [ -z "$code" ]; then
  echo "fly-manage: the command did not report an exit code (the ssh session failed)" >&2
  exit 1
fi
exit "$code"
