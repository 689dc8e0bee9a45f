package esl

import (
	"context"
	"errors"
)

// Sentinel errors; test with errors.Is. Every error this package returns is one of these or
// an *Error wrapping one of them (or a context error).
var (
	// ErrAuth: the server refused the password or user (-ERR invalid during login).
	ErrAuth = errors.New("esl: authentication failed")
	// ErrConnect: the connection could not be set up (refused, unreachable, no greeting).
	ErrConnect = errors.New("esl: cannot connect")
	// ErrTimeout: a deadline passed before the answer came. Context deadlines also match.
	ErrTimeout = errors.New("esl: timeout")
	// ErrDisconnected: the server closed the connection or the socket failed.
	ErrDisconnected = errors.New("esl: disconnected")
	// ErrClosed: the connection was closed by this side (Close or Disconnect).
	ErrClosed = errors.New("esl: connection closed")
	// ErrBadArgument: an argument would break the framing of the protocol (CR, LF or NUL
	// where the wire format does not allow them) or is missing.
	ErrBadArgument = errors.New("esl: bad argument")
	// ErrCommand: the server answered with -ERR (idiomatic layer only; the twins return
	// the reply as it came).
	ErrCommand = errors.New("esl: command failed")
	// ErrNoCgo: the package was built without cgo and cannot reach the C library.
	ErrNoCgo = errors.New("esl: built without cgo (CGO_ENABLED=0); connections need the C library")
	// ErrUnsupported: the linked library lacks the feature (an original libesl has no
	// csrc extensions).
	ErrUnsupported = errors.New("esl: not supported by the linked libesl")
)

// Error carries the operation that failed, the server's or the library's text, and the
// sentinel (or underlying) error it wraps.
type Error struct {
	Op   string // "connect", "api", "sendrecv", "recv", ...
	Text string // the -ERR reply, the library's err text, or a description
	Err  error  // one of the sentinels above, or a context error
}

// Error formats the operation, the text and the wrapped error.
func (e *Error) Error() string {
	s := "esl"
	if e.Op != "" {
		s += ": " + e.Op
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Unwrap returns the wrapped sentinel or cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes a context deadline count as ErrTimeout as well.
func (e *Error) Is(target error) bool {
	return target == ErrTimeout && errors.Is(e.Err, context.DeadlineExceeded)
}

func newError(op, text string, err error) *Error { return &Error{Op: op, Text: text, Err: err} }

// noReason is the text of a failed login when the library gives no reason.
const noReason = "login failed (the library gave no reason)"
