//go:build cgo && libesl

package esl

// With the build tag libesl, the package links an original libesl instead of csrc/. The
// user points cgo at it, for example:
//
//	CGO_CFLAGS="-I<libesl>/include" CGO_LDFLAGS="<libesl>/lib/libesl.a -lpthread -lm" go build -tags libesl
//
// Features that only csrc/ has (message limits) compile out.

// #cgo CFLAGS: -std=gnu11 -D_GNU_SOURCE
import "C"

// backendName names the C library this package is linked with.
const backendName = "libesl"
