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
                   go vet, and the Go tests with -race
  ctest            only the C unit tests (sanitizers on)
  gotest           only go vet and the Go tests
  fuzz [SECONDS]   run every fuzz target for SECONDS each (default 60)
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

# Builds every csrc/tests/test_*.c against the sources with sanitizers and runs it.
cmd_ctest() {
	step "C unit tests (ASan + UBSan + LSan)"
	mkdir -p "$BUILD/ctest"
	local failed=0 ran=0
	for t in csrc/tests/test_*.c; do
		[ -e "$t" ] || continue
		local bin="$BUILD/ctest/$(basename "${t%.c}")"
		$CC $CSTD $CWARN -O1 -g $SAN -Icsrc/include -Icsrc/src -Icsrc/tests "$t" "${CSRC[@]}" -o "$bin" -lpthread -lm
		ran=$((ran + 1))
		if ESL_TESTDATA="$ROOT/testdata/freeswitch" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$bin"; then
			echo "PASS $(basename "$bin")"
		else
			echo "FAIL $(basename "$bin")"
			failed=$((failed + 1))
		fi
	done
	echo "C test programs: $((ran - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ] || die "C tests failed"
}

find_clang() {
	for c in clang clang-16 clang-15 clang-14; do
		if command -v "$c" >/dev/null 2>&1; then echo "$c"; return 0; fi
	done
	return 1
}

# Runs each libFuzzer harness in csrc/fuzz for the given number of seconds.
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
		local pkg fn
		while IFS=: read -r file line; do
			pkg=$(dirname "$file")
			fn=$(sed -n "${line}p" "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/')
			echo "-- go $pkg $fn"
			go test "./$pkg" -run '^$' -fuzz "^${fn}\$" -fuzztime "${secs}s"
		done < <(grep -rn --include='*_test.go' '^func Fuzz' . | cut -d: -f1,2)
	fi
}

cmd_gotest() {
	export_go_env
	step "go vet"
	go vet ./...
	step "go test -race"
	go test -race -count=1 ./...
}

cmd_test() {
	cmd_ctest
	if clang=$(find_clang); then
		cmd_fuzz "${ESL_FUZZ_SECONDS:-10}"
	else
		echo "skipping the short fuzz run: clang is not installed (apt-get install clang)"
	fi
	cmd_gotest
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
	*) cmd_help; die "unknown command: $cmd" ;;
	esac
}

main "$@"
