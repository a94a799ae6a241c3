#!/bin/bash
# Runs every libFuzzer target for SECONDS (default 60), all at once, from
# the seeds of make-seeds.pl and the regression inputs in
# t/fuzz/regress/TARGET/, and prints the executions.  Any crash, leak or
# sanitizer report fails it and leaves the input in OUT/TARGET-crash-*:
# add it under t/fuzz/regress/TARGET/ once fixed, so that every later run
# replays it first.
#
#   t/fuzz/run.sh [SECONDS [OUT]]     (from a build configured with
#                                      --enable-fuzzers; see doc/FUZZING.md)
set -euo pipefail

seconds=${1:-60}
out=${2:-$(mktemp -d)}
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
"$src/t/fuzz/make-seeds.pl" "$out/seeds"
targets=(request storepath daemon pathscan conf nixconf storeuri relay sshargs)
# Longer than the longest input each parser bounds, so that the bound is
# reached: a request line past 4 KiB, a daemon string past 4 KiB, a
# config line past 198 bytes.
declare -A max_len=([request]=70000 [storepath]=4096 [daemon]=70000
    [pathscan]=8192 [conf]=8192 [nixconf]=8192 [storeuri]=8192
    [relay]=16384 [sshargs]=8192)
pids=()
for target in "${targets[@]}"; do
	bin=t/fuzz/fuzz-$target
	[ -x "$bin" ] || { echo "$bin: not built (configure --enable-fuzzers)" >&2; exit 2; }
	corpus="$out/corpus-$target"
	mkdir -p "$corpus"
	regress=()
	[ -d "$src/t/fuzz/regress/$target" ] && regress=("$src/t/fuzz/regress/$target")
	"$bin" -max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=10 \
	    -artifact_prefix="$out/$target-" -print_final_stats=1 \
	    "$corpus" "$out/seeds/$target" "${regress[@]}" >"$out/$target.log" 2>&1 &
	pids+=($!)
done
total=0 failed=0
for i in "${!targets[@]}"; do
	target=${targets[$i]} log=$out/${targets[$i]}.log
	if ! wait "${pids[$i]}"; then
		tail -40 "$log" >&2
		echo "fuzz-$target: FAILED; the input is in $out/" >&2
		failed=1
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E 'DONE +cov' "$log" | grep -oE 'cov: [0-9]+' || true)
	echo "fuzz-$target: $runs executions in ${seconds}s, $cov, no crash"
	total=$((total + runs))
done
[ "$failed" = 0 ] || exit 1
echo "fuzz: $total executions in all"
