#!/usr/bin/env bash
# One entry point for building, testing and measuring esl. Run ./build.sh help.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD="$ROOT/build"

CC=${CC:-gcc}
CSTD="-std=c11 -D_GNU_SOURCE"
CWARN="-Wall -Wextra -Wno-missing-field-initializers"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CSRC=(csrc/src/*.c)

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# The go command does not notice edits to csrc/ (its files are included from the package
# root), so a digest of csrc/ goes into CGO_CFLAGS: any change there invalidates the cache.
csrc_digest() {
	find csrc -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16
}
export_go_env() {
	export CGO_ENABLED=1
	export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -DESL_CSRC_DIGEST=0x$(csrc_digest)"
}

cmd_help() {
	cat <<'EOF'
usage: ./build.sh COMMAND [ARGS]

  lib              build build/lib/libesl.a and build/include/*.h (C users)
  test             everything CI runs: C unit tests under ASan/UBSan/LSan, a short fuzz run,
                   go vet, the Go tests with -race, and the root package's tests with -asan
  ctest            only the C unit tests (sanitizers on)
  gotest           only go vet and the Go tests (also built without cgo)
  fuzz [SECONDS]   run every fuzz target for SECONDS each (default 60)
  examples         build every example and run the quickstart (embedded fake FreeSWITCH)
  integration [GO TEST FLAGS]
                   the integration tests (test/, tag integration) against ESL_TEST_ADDR /
                   ESL_TEST_PASSWORD; when ESL_TEST_ADDR is unset, against a fakefs started here
  docker [DOCKER RUN ARGS]
                   build the harness image (Dockerfile: FreeSWITCH + Go) and run the
                   integration tests in it against a real FreeSWITCH; needs a Docker engine
  bench [ARGS]     build the benchmark programs (bench/) and run them interleaved against the
                   pump: events/s, CPU, RSS and allocations per event, api round trips.
                   BENCH_EVENTS (1000000), BENCH_ROUNDS (3), BENCH_API (100000), BENCH_RSS=1
                   (10M-event RSS runs); ESL_ORIG_LIB=<original libesl.a> adds its numbers
  libesltest [GO TEST FLAGS]
                   not in CI: go vet and the Go tests with -race, linked to an original
                   libesl instead of csrc (build tag libesl): ESL_ORIG_LIB=<libesl.a>, its
                   headers in ESL_ORIG_INCLUDE (default <lib dir>/../include)
  soak [ARGS]      not in CI: one process takes 10M events, 10,000 outbound sessions and api
                   round trips at once; RSS, goroutines, threads and fds are sampled every
                   second and summarized (start/peak/end). ARGS go to the program
                   (-events N -sessions N -parallel N -api N -format plain|json)
  abparse REV [ITERATIONS [ROUNDS]]
                   not in CI: the parser of revision REV against the working tree's, in one
                   process, interleaved (bench/cbench/abparse.c): the text check and the
                   parse of the recorded plain and JSON events, as medians of per-round ratios
  help             this text
EOF
}

cmd_lib() {
	step "building libesl.a into build/"
	mkdir -p "$BUILD/obj" "$BUILD/lib" "$BUILD/include"
	local objs=()
	for src in "${CSRC[@]}"; do
		local obj="$BUILD/obj/$(basename "${src%.c}").o"
		$CC $CSTD $CWARN -O2 -g -fPIC -Icsrc/include -Icsrc/src -c "$src" -o "$obj"
		objs+=("$obj")
	done
	rm -f "$BUILD/lib/libesl.a"
	ar rcs "$BUILD/lib/libesl.a" "${objs[@]}"
	cp csrc/include/*.h "$BUILD/include/"
	echo "built $BUILD/lib/libesl.a (link with -lesl -lpthread -lm)"
}

# Runs one C test program with the sanitizers' options, counting it in the caller's ran and failed.
run_ctest_bin() {
	ran=$((ran + 1))
	if ESL_TESTDATA="$ROOT/testdata/freeswitch" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$@"; then
		echo "PASS $(basename "$1")"
	else
		echo "FAIL $(basename "$1")"
		failed=$((failed + 1))
	fi
}

# Builds every csrc/tests/test_*.c against the sources with sanitizers and runs it.
cmd_ctest() {
	step "C unit tests (ASan + UBSan + LSan)"
	mkdir -p "$BUILD/ctest"
	local failed=0 ran=0 bin
	for t in csrc/tests/test_*.c; do
		[ -e "$t" ] || continue
		bin="$BUILD/ctest/$(basename "${t%.c}")"
		$CC $CSTD $CWARN -O1 -g $SAN -Icsrc/include -Icsrc/src -Icsrc/tests "$t" "${CSRC[@]}" -o "$bin" -lpthread -lm
		run_ctest_bin "$bin"
	done
	# the wire tests once more with the parser's baseline (SSE2) stop map instead of AVX2
	bin="$BUILD/ctest/test_wire_sse2"
	$CC $CSTD $CWARN -O1 -g $SAN -DESL_WIRE_NO_AVX2 -Icsrc/include -Icsrc/src -Icsrc/tests csrc/tests/test_wire.c \
		"${CSRC[@]}" -o "$bin" -lpthread -lm
	run_ctest_bin "$bin"
	# the parser benchmark of ./build.sh bench, a few rounds: it checks its own results
	bin="$BUILD/ctest/parsebench"
	$CC $CSTD $CWARN -O1 -g $SAN -Icsrc/include -Icsrc/src bench/cbench/parsebench.c "${CSRC[@]}" -o "$bin" -lpthread -lm
	run_ctest_bin "$bin" testdata/freeswitch/events-plain-call.s2c plain 20
	run_ctest_bin "$bin" testdata/freeswitch/events-json-call.s2c json 20
	echo "C test programs: $((ran - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ] || die "C tests failed"
}

find_clang() {
	for c in clang clang-16 clang-15 clang-14; do
		if command -v "$c" >/dev/null 2>&1; then echo "$c"; return 0; fi
	done
	return 1
}

# Runs each libFuzzer harness in csrc/fuzz for the given number of seconds, and each Go
# fuzz target for 2,000 inputs per second given.
cmd_fuzz() {
	local secs=${1:-60}
	local clang
	clang=$(find_clang) || die "fuzzing needs clang (apt-get install clang)"
	step "libFuzzer harnesses, $secs s each"
	mkdir -p "$BUILD/fuzz"
	for h in csrc/fuzz/fuzz_*.c; do
		[ -e "$h" ] || continue
		local name
		name=$(basename "${h%.c}")
		local bin="$BUILD/fuzz/$name"
		$clang $CSTD -g -O1 -fsanitize=fuzzer,address,undefined -Icsrc/include -Icsrc/src "$h" "${CSRC[@]}" -o "$bin" -lpthread -lm
		local corpus="$BUILD/fuzz/corpus-$name"
		mkdir -p "$corpus"
		cp -n testdata/freeswitch/*.s2c "$corpus/" 2>/dev/null || true
		echo "-- $name"
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
	done
	if ls ./*_fuzz_test.go >/dev/null 2>&1 || grep -rl --include='*_test.go' '^func Fuzz' . >/dev/null 2>&1; then
		export_go_env
		# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can fail a run
		# with a bare "context deadline exceeded" at the end when a worker is mid-input
		# (go.dev/issue/75804; no input is at fault). Our targets run 1,000-12,000 inputs/s.
		local execs=$((secs * 2000))
		local pkg fn
		while IFS=: read -r file line; do
			pkg=$(dirname "$file")
			fn=$(sed -n "${line}p" "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/')
			echo "-- go $pkg $fn ($execs inputs)"
			go test "./$pkg" -run '^$' -fuzz "^${fn}\$" -fuzztime "${execs}x"
		done < <(grep -rn --include='*_test.go' '^func Fuzz' . | cut -d: -f1,2)
	fi
}

cmd_gotest() {
	export_go_env
	step "go vet"
	go vet ./...
	step "go test -race"
	go test -race -count=1 ./...
	# Without cgo the package must still compile and fail with ErrNoCgo (nocgo.go)
	step "go vet and go test without cgo"
	CGO_ENABLED=0 go vet ./...
	CGO_ENABLED=0 go test -count=1 .
}

# The root package's tests once more with -asan: the C code they drive through cgo (the
# shim and csrc) runs under AddressSanitizer and LeakSanitizer there, which -race does not do.
cmd_goasan() {
	export_go_env
	step "go test -asan (root package)"
	go test -asan -count=1 .
}

cmd_test() {
	cmd_ctest
	if clang=$(find_clang); then
		cmd_fuzz "${ESL_FUZZ_SECONDS:-10}"
	else
		echo "skipping the short fuzz run: clang is not installed (apt-get install clang)"
	fi
	cmd_gotest
	cmd_goasan
}

cmd_examples() {
	export_go_env
	step "go build ./examples/..."
	go build ./examples/...
	step "go run ./examples/quickstart (embedded fake FreeSWITCH)"
	env -u ESL_ADDR -u ESL_PASSWORD go run ./examples/quickstart
}

# wait_tcp HOST PORT SECONDS: true once something accepts connections there.
wait_tcp() {
	local host=$1 port=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# Runs test/ (build tag integration). With ESL_TEST_ADDR set it tests that server (waiting up
# to ESL_TEST_WAIT seconds, default 60, for it to accept connections); without, it builds
# and starts fakefs on a free loopback port, tests it, and stops it. Arguments go to go test.
cmd_integration() {
	export_go_env
	local fake_pid=""
	if [ -z "${ESL_TEST_ADDR:-}" ]; then
		step "starting fakefs (ESL_TEST_ADDR is not set)"
		mkdir -p "$BUILD"
		go build -o "$BUILD/fakefs" ./esltest/cmd/fakefs
		# fakefs prints the address it bound (port 0: a free one) on its first line.
		"$BUILD/fakefs" -listen 127.0.0.1:0 -password ClueCon -user esltest@fakefs:UserSecret \
			>"$BUILD/fakefs.out" 2>"$BUILD/fakefs.log" &
		fake_pid=$!
		trap 'kill '"$fake_pid"' 2>/dev/null || true; wait '"$fake_pid"' 2>/dev/null || true' EXIT
		local addr="" i
		for ((i = 0; i < 100; i++)); do
			addr=$(head -n 1 "$BUILD/fakefs.out" 2>/dev/null || true)
			[ -n "$addr" ] && break
			kill -0 "$fake_pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$addr" ] || { cat "$BUILD/fakefs.log" >&2 || true; die "fakefs did not start"; }
		export ESL_TEST_ADDR=$addr ESL_TEST_PASSWORD=ClueCon ESL_TEST_FAKE=1
		export ESL_TEST_USER=esltest@fakefs ESL_TEST_USER_PASSWORD=UserSecret
		echo "fakefs (pid $fake_pid) listens on $ESL_TEST_ADDR"
	else
		: "${ESL_TEST_PASSWORD:?ESL_TEST_ADDR is set, so ESL_TEST_PASSWORD must be too}"
		local host=${ESL_TEST_ADDR%:*} port=${ESL_TEST_ADDR##*:}
		host=${host#[}
		host=${host%]}
		local wait=${ESL_TEST_WAIT:-60} i
		step "waiting for $ESL_TEST_ADDR"
		wait_tcp "$host" "$port" "$wait" || die "nothing accepts connections on $ESL_TEST_ADDR"
		# The event socket opens while FreeSWITCH still loads modules; "api status" says
		# "is ready" once it has finished starting.
		mkdir -p "$BUILD"
		go build -o "$BUILD/fscli" ./examples/fscli
		for ((i = 0; ; i++)); do
			"$BUILD/fscli" -H "$host" -P "$port" -p "$ESL_TEST_PASSWORD" -t 5s -x status 2>/dev/null | grep -q 'is ready' && break
			[ "$i" -lt "$wait" ] || die "$ESL_TEST_ADDR did not report \"is ready\" within $wait s"
			sleep 1
		done
	fi
	local race=(-race)
	[ "${ESL_TEST_RACE:-1}" = 0 ] && race=()
	step "go test -tags integration ./test/... against $ESL_TEST_ADDR"
	go test -tags integration -count=1 "${race[@]}" -v ./test/... "$@"
}

# Builds the harness image and runs it: FreeSWITCH starts inside, then ./build.sh integration.
cmd_docker() {
	command -v docker >/dev/null 2>&1 || die "docker is not installed"
	docker info >/dev/null 2>&1 ||
		die "no Docker engine is reachable (docker info failed); start dockerd or point DOCKER_HOST at one"
	local image=${ESL_DOCKER_IMAGE:-esl-integration}
	local args=()
	[ -n "${ESL_DOCKER_BASE:-}" ] && args+=(--build-arg "BASE_IMAGE=$ESL_DOCKER_BASE")
	step "docker build -t $image ."
	docker build "${args[@]}" -t "$image" .
	step "docker run --rm $image"
	docker run --rm "$@" "$image"
}

# Where the headers of the original libesl at $1 are: ESL_ORIG_INCLUDE, or the include
# directory beside the library's.
orig_include() {
	echo "${ESL_ORIG_INCLUDE:-$(dirname "$1")/../include}"
}

# Builds the benchmark programs into build/bench and runs bench/cmd/benchrun, which serves
# the pump and runs every client interleaved, then parsebench (the parser alone). With ESL_ORIG_LIB (an original libesl.a; its
# headers in ESL_ORIG_INCLUDE, default <lib dir>/../include), cbench is also built against
# it, outside the repository (ESL_ORIG_OUT, default $TMPDIR/esl-bench-orig).
cmd_bench() {
	cmd_lib
	export_go_env
	local out="$BUILD/bench"
	local copt=(-O2 -g $CSTD $CWARN)
	local wrap=-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
	step "building the benchmark programs into build/bench"
	mkdir -p "$out"
	$CC "${copt[@]}" -o "$out/rawreader" bench/rawreader/rawreader.c
	$CC "${copt[@]}" -o "$out/pingpong" bench/cbench/pingpong.c
	$CC "${copt[@]}" -DBENCH_COUNT_ALLOCS -I"$BUILD/include" -o "$out/cbench" bench/cbench/cbench.c \
		"$BUILD/lib/libesl.a" "$wrap" -lpthread -lm
	$CC "${copt[@]}" -I"$BUILD/include" -Icsrc/src -o "$out/parsebench" bench/cbench/parsebench.c \
		"$BUILD/lib/libesl.a" -lpthread -lm
	go build -o "$out/gobench" ./bench/gobench
	go build -o "$out/benchrun" ./bench/cmd/benchrun
	local orig=()
	if [ -n "${ESL_ORIG_LIB:-}" ]; then
		local inc
		inc=$(orig_include "$ESL_ORIG_LIB")
		local odir=${ESL_ORIG_OUT:-${TMPDIR:-/tmp}/esl-bench-orig}
		mkdir -p "$odir"
		$CC "${copt[@]}" -DBENCH_COUNT_ALLOCS -I"$inc" -o "$odir/cbench-orig" bench/cbench/cbench.c \
			"$ESL_ORIG_LIB" "$wrap" -lpthread -lm
		orig=(-orig "$odir/cbench-orig")
		echo "built $odir/cbench-orig against $ESL_ORIG_LIB"
	fi
	step "running the benchmarks (results also in build/bench/results.txt)"
	"$out/benchrun" -bin "$out" "${orig[@]}" "$@" | tee "$out/results.txt"
	step "the parser alone, no socket: the recorded events parsed from memory (CPU time)"
	local fmt
	for fmt in plain json; do
		"$out/parsebench" "testdata/freeswitch/events-$fmt-call.s2c" "$fmt"
	done | tee -a "$out/results.txt"
}

# The Go tests linked to an original libesl (build tag libesl), which the user built: this
# script never builds it. Tests of what only csrc does skip and say why.
cmd_libesltest() {
	[ -n "${ESL_ORIG_LIB:-}" ] || die "libesltest needs ESL_ORIG_LIB=<path to an original libesl.a>"
	[ -f "$ESL_ORIG_LIB" ] || die "ESL_ORIG_LIB: no such file: $ESL_ORIG_LIB"
	local lib inc
	lib=$(cd "$(dirname "$ESL_ORIG_LIB")" && pwd)/$(basename "$ESL_ORIG_LIB")
	inc=$(orig_include "$lib")
	[ -f "$inc/esl.h" ] || die "no esl.h in $inc (set ESL_ORIG_INCLUDE)"
	export CGO_ENABLED=1
	export CGO_CFLAGS="-O2 -g -I$(cd "$inc" && pwd)"
	export CGO_LDFLAGS="$lib -lpthread -lm"
	step "go vet -tags libesl (linked to $lib)"
	go vet -tags libesl ./...
	step "go test -race -tags libesl"
	go test -race -count=1 -tags libesl "$@" ./...
}

# Builds and runs the soak program (soak/); it takes several minutes with the defaults.
cmd_soak() {
	export_go_env
	mkdir -p "$BUILD"
	step "go build ./soak"
	go build -o "$BUILD/soak" ./soak
	step "soak $*"
	"$BUILD/soak" -testdata "$ROOT/testdata/freeswitch" "$@"
}

# Builds abparse with revision $1's library (its sources from git, built into
# $BUILD/abparse) beside the working tree's, and runs it on the recorded plain and JSON
# events. The base library is linked as one object in which only the functions abparse calls
# stay global, renamed base_*, so the two copies of every other symbol never meet.
cmd_abparse() {
	local rev=${1:-}
	[ -n "$rev" ] || die "usage: ./build.sh abparse REV [ITERATIONS [ROUNDS]]"
	shift
	local out="$BUILD/abparse" f
	local syms=(esl_wire_create esl_wire_destroy esl_wire_plain_check esl_wire_json_check esl_wire_parse_plain
		esl_wire_parse_json esl_event_get_header_idx esl_event_destroy)
	local rename=() keep=()
	step "abparse: $rev against the working tree"
	rm -rf "$out" && mkdir -p "$out/src" "$out/obj"
	git archive "$rev" csrc | tar -x -C "$out/src"
	for f in "$out"/src/csrc/src/*.c; do
		$CC $CSTD $CWARN -O2 -g -I"$out/src/csrc/include" -I"$out/src/csrc/src" -c "$f" -o "$out/obj/$(basename "${f%.c}").o"
	done
	ld -r "$out"/obj/*.o -o "$out/base-all.o"
	for f in "${syms[@]}"; do
		rename+=(--redefine-sym "$f=base_$f")
		keep+=(--keep-global-symbol "base_$f")
	done
	objcopy "${rename[@]}" "$out/base-all.o" "$out/base-renamed.o"
	objcopy "${keep[@]}" "$out/base-renamed.o" "$out/base.o"
	$CC $CSTD $CWARN -O2 -g -Icsrc/include -Icsrc/src -o "$out/abparse" bench/cbench/abparse.c "$out/base.o" \
		"${CSRC[@]}" -lpthread -lm
	for f in plain json; do
		"$out/abparse" "testdata/freeswitch/events-$f-call.s2c" "$f" "$@"
	done
}

main() {
	local cmd=${1:-help}
	shift || true
	case "$cmd" in
	help | -h | --help) cmd_help ;;
	lib) cmd_lib ;;
	test) cmd_test ;;
	ctest) cmd_ctest ;;
	gotest) cmd_gotest ;;
	fuzz) cmd_fuzz "$@" ;;
	examples) cmd_examples ;;
	integration) cmd_integration "$@" ;;
	docker) cmd_docker "$@" ;;
	bench) cmd_bench "$@" ;;
	libesltest) cmd_libesltest "$@" ;;
	soak) cmd_soak "$@" ;;
	abparse) cmd_abparse "$@" ;;
	*) cmd_help; die "unknown command: $cmd" ;;
	esac
}

main "$@"
