#!/bin/sh
# Run by docker/Dockerfile in a built, production-pruned workspace: removes what the runtime image does not need
# (sources, tests, build configs, source maps, caches). Only dist/, package.json and node_modules remain.
set -eu
for ws in packages/* apps/* test/*; do
  [ -d "$ws" ] || continue
  rm -rf "$ws/src" "$ws/test" "$ws/bench" "$ws/scripts" "$ws/.turbo" "$ws/vitest.config.ts"
  rm -f "$ws"/tsconfig*.json "$ws"/*.tsbuildinfo
  if [ -d "$ws/dist" ]; then find "$ws/dist" \( -name '*.map' -o -name '*.tsbuildinfo' \) -delete; fi
done
rm -rf .turbo node_modules/.cache turbo.json tsconfig.base.json docker
# npm prune leaves the emptied scope directories of removed packages (@vitest/, @biomejs/, …).
find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete
