package esl

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cgoesl/esl/internal/ascii"
)

// Job is a background API command started by BackgroundJob. Its result arrives as a
// BACKGROUND_JOB event, which goes to the Job and not to the event stream.
type Job struct {
	UUID    string // the Job-UUID, chosen by this side before the command was sent
	Command string
	Arg     string

	done chan struct{}
	ev   *Event
	err  error

	duty *readDuty // of the connection: told while Wait waits
}

// Done is closed when the result (or the end of the connection) has arrived.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait returns the BACKGROUND_JOB event; the command's output is its body. An output
// starting with -ERR gives the event together with an error wrapping ErrCommand. If the
// connection ends first, the error wraps ErrDisconnected or ErrClosed. When ctx ends, Wait
// returns ctx's error and the job stays registered: Wait may be called again.
func (j *Job) Wait(ctx context.Context) (*Event, error) {
	select {
	case <-j.done:
		return j.ev, j.err
	default:
	}
	if j.duty != nil {
		j.duty.waitBegin()
		defer j.duty.waitEnd()
	}
	select {
	case <-j.done:
		return j.ev, j.err
	case <-ctx.Done():
		return nil, newError("bgapi", "waiting for job "+j.UUID, ctx.Err())
	}
}

func (j *Job) finish(ev *Event, err error) {
	j.ev, j.err = ev, err
	if err == nil {
		if body := ev.GetBody(); strings.HasPrefix(body, "-ERR") {
			j.err = newError("bgapi", strings.TrimSpace(body), ErrCommand)
		}
	}
	close(j.done)
}

// jobTable routes BACKGROUND_JOB events to their Jobs and remembers the subscription.
type jobTable struct {
	mu         sync.Mutex
	m          map[string]*Job
	n          atomic.Int32
	format     string // event format last asked for on this connection
	subscribed bool   // BACKGROUND_JOB subscription sent by BackgroundJob
	submu      sync.Mutex
}

func (t *jobTable) init() { t.m = make(map[string]*Job); t.format = "plain" }

func (t *jobTable) add(j *Job) {
	t.mu.Lock()
	t.m[j.UUID] = j
	t.n.Add(1)
	t.mu.Unlock()
}

func (t *jobTable) remove(uuid string) {
	t.mu.Lock()
	if _, ok := t.m[uuid]; ok {
		delete(t.m, uuid)
		t.n.Add(-1)
	}
	t.mu.Unlock()
}

// deliver hands a BACKGROUND_JOB event to its Job; false when no Job claims it.
func (t *jobTable) deliver(ev *Event) bool {
	if t.n.Load() == 0 {
		return false
	}
	uuid := ev.GetHeader("Job-UUID")
	t.mu.Lock()
	j := t.m[uuid]
	if j != nil {
		delete(t.m, uuid)
		t.n.Add(-1)
	}
	t.mu.Unlock()
	if j == nil {
		return false
	}
	j.finish(ev, nil)
	return true
}

func (t *jobTable) fail(err error) {
	t.mu.Lock()
	jobs := t.m
	t.m = make(map[string]*Job)
	t.n.Store(0)
	t.mu.Unlock()
	for _, j := range jobs {
		j.finish(nil, newError("bgapi", "connection ended before job "+j.UUID+" finished", err))
	}
}

// noteCommand watches the commands written (under the write lock) for the event format
// and for commands that drop subscriptions, so the automatic BACKGROUND_JOB subscription
// keeps the format the user chose and is renewed when needed.
func (t *jobTable) noteCommand(cmd []byte) {
	// Cheap first test: only event, events, noevents and nixevent matter.
	if len(cmd) < 6 || (cmd[0]|0x20 != 'e' && cmd[0]|0x20 != 'n') {
		return
	}
	line := cmd
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return
	}
	switch {
	case ascii.EqualFold(fields[0], "event") || ascii.EqualFold(fields[0], "events"):
		if len(fields) > 1 {
			for _, f := range []string{"plain", "json", "xml"} {
				if fields[1] == f {
					t.mu.Lock()
					t.format = f
					t.mu.Unlock()
				}
			}
		}
	case ascii.EqualFold(fields[0], "noevents") || ascii.EqualFold(fields[0], "nixevent"):
		t.mu.Lock()
		t.subscribed = false
		t.mu.Unlock()
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// BackgroundJob runs "bgapi <cmd> <arg>" with a Job-UUID chosen here and registered before
// the command is written, so the BACKGROUND_JOB event cannot be missed however fast it
// comes. The first call subscribes the connection to BACKGROUND_JOB (in the event format
// last asked for, plain by default); a later noevents or nixevent makes the next call
// subscribe again. The result event goes to the Job, not to RecvEvent.
func (c *Connection) BackgroundJob(ctx context.Context, cmd, arg string) (*Job, error) {
	s := c.state()
	defer runtime.KeepAlive(c)
	j := &Job{UUID: newUUID(), Command: cmd, Arg: arg, done: make(chan struct{}), duty: &s.duty}
	b, err := bgapiCommand(cmd, arg, j.UUID)
	if err != nil {
		return nil, err
	}
	if err := c.subscribeJobs(ctx); err != nil {
		return nil, err
	}
	s.jobs.add(j)
	reply, err := s.roundTrip(ctx, "bgapi", b)
	if err == nil {
		err = replyError("bgapi", reply)
	}
	if err != nil {
		s.jobs.remove(j.UUID)
		return nil, err
	}
	return j, nil
}

func (c *Connection) subscribeJobs(ctx context.Context) error {
	s := c.state()
	t := &s.jobs
	t.submu.Lock()
	defer t.submu.Unlock()
	t.mu.Lock()
	done, format := t.subscribed, t.format
	t.mu.Unlock()
	if done {
		return nil
	}
	b, err := simpleCommand("event", "event", format, "BACKGROUND_JOB")
	if err != nil {
		return err
	}
	reply, err := s.roundTrip(ctx, "event", b)
	if err == nil {
		err = replyError("event", reply)
	}
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.subscribed = true
	t.mu.Unlock()
	return nil
}
