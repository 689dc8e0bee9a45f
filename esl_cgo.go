//go:build cgo

package esl

// Settings shared by both link modes; the include path of esl.h comes from cgo_csrc.go
// (default build) or from the user's CGO_CFLAGS (build tag libesl).

/*
#cgo LDFLAGS: -lpthread -lm
#include <stdlib.h>
#include "eslgo_shim.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func init() {
	// Installs no logger, and keeps the library's global level low so that the original
	// libesl does not serialize every received message for a debug line nobody reads.
	C.eslgo_init()
}

// haveExtensions reports whether the linked library has the csrc extensions
// (esl_handle_set_limits and friends).
var haveExtensions = C.eslgo_have_extensions() != 0

// setCLogLevel routes libesl's logger to Go at level (or turns it off when level < 0).
func setCLogLevel(level int) {
	C.eslgo_set_log_level(C.int(level))
}

// eslgoLog receives one formatted libesl log line. It may run on a C thread; a panic in a
// user's slog handler must not unwind into C.
//
//export eslgoLog
func eslgoLog(file, fn *C.char, line, level C.int, msg *C.char, n C.int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "esl: log handler panicked: %v\n", r)
		}
	}()
	text := C.GoStringN(msg, n)
	logC(C.GoString(file), C.GoString(fn), int(line), int(level), text)
}

// cString returns s as a NUL-terminated byte slice that C may read during one call.
// Passing Go memory avoids a malloc and a free crossing per string.
func cString(s string) *C.char {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return (*C.char)(unsafe.Pointer(&b[0]))
}
