#!/bin/sh
# tests/mpi/errors.sh BIN DIR - chapter 7's errors end every rank, with a
# message that says what is wrong (make check-dp). Each run has 60 s: a run
# that times out (exit 124) is a rank left waiting for one that died.
#   - a rank that starts from other parameters (here: another --seed)
#   - a rank that cannot read the corpus (here: --data names no directory)
#   - a number of ranks that does not divide the batch (3 ranks, batch 8)
# MPIRUN (from the Makefile) is mpirun with the flags this machine needs.
# A rank killed by MPI_Abort leaves its temporary run directory: under DIR.
set -u
bin=$1 dir=$2
mkdir -p "$dir/tmp"
export TMPDIR="$dir/tmp"
status=0
expect() { # expect NAME PATTERN MPIRUN-ARGS...: a non-zero exit (not 124) whose stderr has PATTERN
    name=$1 pattern=$2; shift 2
    OMP_NUM_THREADS=1 timeout 60 $MPIRUN "$@" > "$dir/$name.out" 2> "$dir/$name.err"
    rc=$?
    if [ $rc = 124 ]; then echo "FAIL $name: still running after 60 s (a rank hangs)"; status=1
    elif [ $rc = 0 ]; then echo "FAIL $name: exit 0, want an error"; status=1
    elif ! grep -q "$pattern" "$dir/$name.err"; then
        echo "FAIL $name: exit $rc but stderr lacks \"$pattern\":"; cat "$dir/$name.err"; status=1
    else echo "ok   $name: exit $rc, \"$(grep -m1 "$pattern" "$dir/$name.err")\""; fi
}
expect checksum "the initial parameters: rank 1's checksum" \
    -np 1 "$bin" --quick --seed 0 --out "$dir/run" : -np 1 "$bin" --quick --seed 1 --out "$dir/run"
expect corpus "rank 1 of 2: error: " \
    -np 1 "$bin" --quick --out "$dir/run" : -np 1 "$bin" --quick --data "$dir/no-such-corpus" --out "$dir/run"
expect batch "cannot be split evenly over 3 ranks" -np 3 "$bin" --quick --out "$dir/run"
exit $status
