#!/usr/bin/env bash
# The server's modules are layered (see server/src/lib.rs and
# docs/architecture.md): cli and startup -> web -> state -> services -> store
# -> domain, settings, secret, telemetry. A module may use only the layers
# below it. This fails on any `crate::` path in a module that names a layer
# above it, and on a store module that reaches into the exporter.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../server/src"

# layer: the paths its modules must never name
declare -A forbidden=(
  [web]="crate::cli crate::startup"
  [state]="crate::web crate::cli crate::startup"
  [services]="crate::state crate::web crate::cli crate::startup"
  [store]="crate::services crate::state crate::web crate::cli crate::startup exporter::"
  [domain]="crate::store crate::services crate::state crate::web crate::cli crate::startup"
  [settings]="crate::store crate::services crate::state crate::web crate::cli crate::startup"
  [secret]="crate::store crate::services crate::state crate::web crate::cli crate::startup"
  [telemetry]="crate::store crate::services crate::state crate::web crate::cli crate::startup"
)

status=0
for layer in "${!forbidden[@]}"; do
  files=()
  [ -d "$layer" ] && while IFS= read -r f; do files+=("$f"); done < <(find "$layer" -name '*.rs')
  [ -f "$layer.rs" ] && files+=("$layer.rs")
  for path in ${forbidden[$layer]}; do
    # Only code counts: lines that are comments (`//`, `///`, `//!`) are skipped.
    if hits=$(grep -nE "(^|[^a-z_])$path" "${files[@]}" | grep -vE '^[^:]+:[0-9]+:\s*//'); then
      echo "error: the $layer layer must not use $path:" >&2
      echo "$hits" >&2
      status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "server layers: no module uses a layer above it"
exit "$status"
