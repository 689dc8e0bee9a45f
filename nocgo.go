//go:build !cgo

package esl

import (
	"os"
	"syscall"
	"time"
)

// Without cgo the package still compiles: events work (they are pure Go), and every
// constructor of a Connection fails with ErrNoCgo, as the outbound server does
// (outbound_nocgo.go).

const backendName = "none"

var haveExtensions = false

type handle struct{}

func setCLogLevel(int) {}

func connectHandle(string, int, string, string, time.Duration, int, int) (*handle, int, error) {
	return nil, -1, newError("connect", "", ErrNoCgo)
}

func attachHandle(fd int) (*handle, *Event, error) {
	if fd >= 0 {
		_ = syscall.Close(fd) // the Connection owns fd, also when it cannot use it
	}
	return nil, nil, newError("attach", "", ErrNoCgo)
}

var canAdopt = false

func adoptHandle(fd int) (*handle, error) {
	_, _, err := attachHandle(fd)
	return nil, err
}

func (s *connState) receive() string                   { return "no cgo" }
func (s *connState) readFor(syscall.RawConn, *request) {}
func (s *connState) readEarly(*os.File, *request)      {}
func (s *connState) readForEvents() bool               { return false }
func pollable(int) *os.File                            { return nil }
func (h *handle) disconnect()                          {}
func waitWritable(int, int)                            {}
