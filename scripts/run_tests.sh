#!/usr/bin/env bash
# Install rankkd into .venv and run the fast offline test suite (the README's test command; .ci/run calls it).
# Extra arguments go to pytest, e.g. `bash scripts/run_tests.sh -m slow` for the real-data tests.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$REPO"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(-m "not slow")
set +e
"$VENV/bin/python" -m pytest -q "${args[@]}"
rc=$?
# pytest exits 5 when it selected no test: that is not a failure of the code under test.
if [ $rc -eq 5 ]; then echo "pytest: no tests selected"; rc=0; fi
exit $rc
