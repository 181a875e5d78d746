#!/usr/bin/env bash
# The one test command: installs missing packages, builds, and runs every test
# (unit, integration against real sshd/ssh, fuzz smoke), then again under
# AddressSanitizer + UndefinedBehaviorSanitizer.  Exit 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
exec make check
