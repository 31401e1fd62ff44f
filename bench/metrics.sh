#!/bin/bash
# bench/metrics.sh [BUILDDIR] - what the metrics ([metrics] on vs off); target < 3 %.
# See bench/toggle.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/toggle.sh" metrics "$@"
