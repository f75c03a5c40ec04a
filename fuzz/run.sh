#!/bin/sh
# run.sh - run each fuzzer for a while and report (called by `make fuzz`).
#
# Usage: sh fuzz/run.sh BUILD/fuzz SECONDS HARNESS...
# For each harness: runs BUILD/fuzz/fuzz_<h> for SECONDS (under nice) on
# its corpus BUILD/fuzz/corpus/<h> (kept between runs, so coverage grows)
# and the seeds BUILD/fuzz/seeds/<h>; a crashing input is kept as
# BUILD/fuzz/crashes/<h>/crash-<sha1> (also leak-, timeout-, oom-); the
# log is BUILD/fuzz/<h>.log. Prints one line of stats per harness and exits
# 1 if any harness found something new. Once a finding is fixed, move it
# into fuzz/regress/<h>/ (a short name saying what it is), so `make check`
# replays it for ever.
set -u
dir=$1 secs=$2
shift 2
found=0
printf '%-11s %12s %9s %7s %8s %7s %s\n' harness executions exec/s cov features seconds findings
for h in "$@"; do
  mkdir -p "$dir/corpus/$h" "$dir/crashes/$h"
  extra=
  [ "$h" = weave ] && extra="-close_fd_mask=2 -dict=fuzz/weave.dict"
  before=$(ls "$dir/crashes/$h" | wc -l)
  start=$(date +%s)
  nice -n 10 "$dir/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/$h/" $extra \
    "$dir/corpus/$h" "$dir/seeds/$h" > "$dir/$h.log" 2>&1
  rc=$?
  secs_run=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$h.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/$h.log")
  cov=$(grep -o 'cov: [0-9]*' "$dir/$h.log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$dir/$h.log" | tail -1 | cut -d' ' -f2)
  n=$(( $(ls "$dir/crashes/$h" | wc -l) - before ))
  printf '%-11s %12s %9s %7s %8s %7s %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$secs_run" "$n"
  if [ "$rc" != 0 ] || [ "$n" != 0 ]; then
    found=1
    echo "  $h: exit $rc; findings in $dir/crashes/$h/, log $dir/$h.log:"
    grep -m 3 -e 'ERROR:' -e 'runtime error' -e 'fuzz invariant' "$dir/$h.log" | sed 's/^/    /'
  fi
done
exit $found
