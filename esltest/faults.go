package esltest

import (
	"errors"
	"net"
	"sort"
	"sync"
	"time"
)

// Faults shapes how the server writes to a connection, for hardening tests
// of clients. Offsets count every byte the server wrote on that
// connection, greeting included.
type Faults struct {
	// SplitAt cuts the stream into separate writes at these absolute offsets.
	SplitAt []int
	// ChunkSize, if > 0, limits every write to at most this many bytes.
	ChunkSize int
	// Delay is slept before every piece but the first: a piece is one
	// write, or one part of a write cut by SplitAt or ChunkSize.
	Delay time.Duration
	// DropAfter, if > 0, closes the socket once exactly this many bytes were written.
	DropAfter int64
}

var errDropped = errors.New("esltest: connection dropped by Faults.DropAfter")

// faultWriter is the single write path of a connection.
type faultWriter struct {
	mu      sync.Mutex
	nc      writeCloser
	f       Faults
	split   []int64
	written int64
	dropped bool
	pieces  int
	stop    <-chan struct{}
}

type writeCloser interface {
	Write([]byte) (int, error)
	Close() error
}

func newFaultWriter(nc writeCloser, f Faults, stop <-chan struct{}) *faultWriter {
	w := &faultWriter{nc: nc, f: f, stop: stop}
	for _, at := range f.SplitAt {
		if at > 0 {
			w.split = append(w.split, int64(at))
		}
	}
	sort.Slice(w.split, func(i, j int) bool { return w.split[i] < w.split[j] })
	return w
}

func (w *faultWriter) plain() bool {
	return len(w.split) == 0 && w.f.ChunkSize <= 0 && w.f.DropAfter <= 0 && w.f.Delay <= 0
}

// writeFrames writes several messages; without faults they go out in one write.
func (w *faultWriter) writeFrames(frames [][]byte) error {
	if len(frames) == 1 {
		return w.write(frames[0])
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	buf := make([]byte, 0, n)
	for _, f := range frames {
		buf = append(buf, f...)
	}
	return w.write(buf)
}

func (w *faultWriter) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dropped {
		return errDropped
	}
	if w.plain() {
		n, err := w.nc.Write(b)
		w.written += int64(n)
		return err
	}
	for len(b) > 0 {
		n := len(b)
		if w.f.ChunkSize > 0 && n > w.f.ChunkSize {
			n = w.f.ChunkSize
		}
		for _, at := range w.split {
			if at > w.written && at < w.written+int64(n) {
				n = int(at - w.written)
				break
			}
		}
		if w.f.DropAfter > 0 && w.written+int64(n) > w.f.DropAfter {
			n = int(w.f.DropAfter - w.written)
		}
		if w.pieces > 0 && w.f.Delay > 0 {
			t := time.NewTimer(w.f.Delay)
			select {
			case <-t.C:
			case <-w.stop:
				t.Stop()
				return net.ErrClosed
			}
		}
		w.pieces++
		if n > 0 {
			m, err := w.nc.Write(b[:n])
			w.written += int64(m)
			if err != nil {
				return err
			}
			b = b[n:]
		}
		if w.f.DropAfter > 0 && w.written >= w.f.DropAfter {
			// A FIN right after byte DropAfter; the connection then ends
			// as usual, draining input so that no reset destroys the data.
			w.dropped = true
			if cw, ok := w.nc.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			} else {
				w.nc.Close()
			}
			return errDropped
		}
	}
	return nil
}

// Written returns how many bytes went out on the connection.
func (w *faultWriter) total() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}
