// Package bench holds the client benchmarks of ./build.sh bench and the tests that count
// what goes through the binding: TestLossless streams events with adversarial write
// boundaries and checks that every one arrives, and the Benchmark functions measure
// receiving and api round trips in one process for profiling (go test -cpuprofile).
//
// The programs: pump (the event pump, bench/pump and bench/cmd/pump), rawreader (C, the
// upper bound), cbench (C over the libesl API) with pingpong (C, the api baseline),
// gobench (the Go binding) and benchrun (runs them all, interleaved, and prints tables);
// parsebench (C) times the library's parser alone on the recorded events, with no socket.
// See BENCHMARKS.md at the repository root.
package bench
