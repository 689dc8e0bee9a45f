//go:build cgo && !libesl

package esl

// The default build compiles the C implementation in csrc/ into the package (see the
// csrc_*.c files); its headers come from the repository.

// #cgo CFLAGS: -I${SRCDIR}/csrc/include -I${SRCDIR}/csrc/src -std=gnu11 -D_GNU_SOURCE
import "C"

// backendName names the C library this package is linked with.
const backendName = "csrc"
