//go:build cgo && !libesl

// Compiles csrc/src/esl_view.c into the Go package; the go command only builds C files that sit
// in the package directory itself.
#include "csrc/src/esl_view.c"
