# shellcheck shell=bash
# The PASS/FAIL bookkeeping every end-to-end script shares; source it once $W (the work
# directory, where a check's output goes to out.txt) is set. The script ends with its own
# summary from $pass and $fail.
#   ok WHAT / bad WHAT           count and print a PASS / FAIL line
#   check WHAT CMD…              PASS if CMD succeeds, else FAIL with the last $CHECK_TAIL
#                                (default 8) lines of its output
#   refuse WHAT CMD…             PASS if CMD fails, else FAIL with the last 5 lines
#   expect CODE WHAT CMD…        PASS if CMD exits with CODE, else FAIL naming the status
#   verdict 0|1 WHAT CMD…        0: PASS if CMD succeeds; 1: PASS if it fails with a status
#                                under 100 (a verdict, not a panic (101) or a signal (128+))
pass=0; fail=0
ok() { pass=$((pass+1)); echo "PASS $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@" >"$W/out.txt" 2>&1; then ok "$what"; else bad "$what"; tail -"${CHECK_TAIL:-8}" "$W/out.txt" | sed 's/^/    /'; fi; }
refuse() { local what=$1; shift; if "$@" >"$W/out.txt" 2>&1; then bad "$what (accepted)"; tail -5 "$W/out.txt" | sed 's/^/    /'; else ok "$what"; fi; }
expect() {
  local want=$1 what=$2; shift 2
  local rc=0; "$@" >"$W/out.txt" 2>&1 || rc=$?
  if [ "$rc" = "$want" ]; then ok "$what"
  else bad "$what (exit $rc, wanted $want)"; tail -5 "$W/out.txt" | sed 's/^/    /'; fi
}
verdict() {
  local want=$1 what=$2; shift 2
  local rc=0; "$@" >"$W/out.txt" 2>&1 || rc=$?
  if { [ "$want" = 0 ] && [ $rc = 0 ]; } || { [ "$want" = 1 ] && [ $rc != 0 ] && [ $rc -lt 100 ]; }; then ok "$what"
  else bad "$what (exit $rc, wanted $want)"; tail -5 "$W/out.txt" | sed 's/^/    /'; fi
}
