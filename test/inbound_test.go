//go:build integration

package test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl"
)

func TestLoginOK(t *testing.T) {
	e := setup(t)

	c := esl.NewConnection(e.host, e.port, e.password)
	require.True(t, c.Connected(), "NewConnection: %v", c.Err())
	assert.NoError(t, c.Err())
	assert.GreaterOrEqual(t, c.SocketDescriptor(), 0)
	assert.Nil(t, c.GetInfo(), "an inbound connection has no channel data")
	assert.NoError(t, c.Disconnect())
	assert.False(t, c.Connected())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := esl.Dial(ctx, e.addr, esl.WithPassword(e.password))
	require.NoError(t, err)
	assert.True(t, d.Connected())
	assert.NoError(t, d.Close())
}

func TestLoginBadPassword(t *testing.T) {
	e := setup(t)

	c := esl.NewConnection(e.host, e.port, e.password+"-wrong")
	assert.False(t, c.Connected())
	assert.Error(t, c.Err())
	c.Disconnect()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := esl.Dial(ctx, e.addr, esl.WithPassword(e.password+"-wrong"))
	require.Error(t, err)
	if esl.Backend() == "csrc" { // the original libesl loses the reason (its quirk Q9)
		assert.ErrorIs(t, c.Err(), esl.ErrAuth)
		assert.ErrorIs(t, err, esl.ErrAuth)
	}

	var eslErr *esl.Error
	assert.True(t, errors.As(err, &eslErr), "Dial's error is an *esl.Error: %T", err)
}

func TestUserAuth(t *testing.T) {
	e := setup(t)
	if e.user == "" {
		t.Skip("skipping: ESL_TEST_USER is not set (name@domain of a directory user with an esl-password param; " +
			"set ESL_TEST_USER_PASSWORD to that password); a vanilla FreeSWITCH has no such user")
	}

	c := esl.NewConnectionUser(e.host, e.port, e.user, e.userPassword)
	require.True(t, c.Connected(), "userauth %s: %v", e.user, c.Err())
	assert.Contains(t, c.Api("status").GetBody(), "UP")
	c.Disconnect()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := esl.Dial(ctx, e.addr, esl.WithUser(e.user, e.userPassword))
	require.NoError(t, err)
	d.Close()

	bad := esl.NewConnectionUser(e.host, e.port, e.user, e.userPassword+"-wrong")
	assert.False(t, bad.Connected())
	if esl.Backend() == "csrc" {
		assert.ErrorIs(t, bad.Err(), esl.ErrAuth)
	}
	bad.Disconnect()
}

func TestAPI(t *testing.T) {
	e := setup(t)
	c := dial(t, e)

	status := c.Api("status")
	require.NotNil(t, status, "api status: %v", c.Err())
	assert.Equal(t, "api/response", status.GetHeader("Content-Type"))
	assert.Contains(t, status.GetBody(), "UP ")
	assert.Contains(t, status.GetBody(), "is ready")

	assert.Contains(t, apiBody(t, c, "version", ""), "FreeSWITCH Version")
	assert.Equal(t, "-ERR nosuchcommand Command not found!\n", apiBody(t, c, "nosuchcommand", ""))
	assert.Equal(t, "-ERR no reply\n", apiBody(t, c, "global_getvar", "esl_integration_unset_"+strings.ReplaceAll(newUUID(), "-", "")))

	// SendRecv is the raw form of the same.
	raw := c.SendRecv("api status")
	require.NotNil(t, raw)
	assert.Contains(t, raw.GetBody(), "UP ")

	// A command that is not api answers with command/reply.
	reply := c.SendRecv("nosuchcommand")
	require.NotNil(t, reply)
	assert.Equal(t, "-ERR command not found", reply.GetHeader("Reply-Text"))
}

func TestBgapi(t *testing.T) {
	e := setup(t)
	c := dial(t, e)
	require.NoError(t, c.Events("plain", "BACKGROUND_JOB"))

	jobUUID := newUUID()
	reply := c.Bgapi("status", "", jobUUID)
	require.NotNil(t, reply, "bgapi: %v", c.Err())
	assert.Equal(t, "+OK Job-UUID: "+jobUUID, reply.GetHeader("Reply-Text"))
	assert.Equal(t, jobUUID, reply.GetHeader("Job-UUID"))

	job := recvUntil(t, c, 10*time.Second, "BACKGROUND_JOB", func(ev *esl.Event) bool {
		return ev.GetHeader("Event-Name") == "BACKGROUND_JOB" && ev.GetHeader("Job-UUID") == jobUUID
	}, nil)
	assert.Equal(t, "BACKGROUND_JOB", job.GetType())
	assert.Equal(t, "status", job.GetHeader("Job-Command"))
	assert.Contains(t, job.GetBody(), "UP ")

	// A server-chosen Job-UUID, and an unknown command.
	reply = c.Bgapi("nosuchcommand", "")
	require.NotNil(t, reply)
	serverJob := reply.GetHeader("Job-UUID")
	require.NotEmpty(t, serverJob)
	job = recvUntil(t, c, 10*time.Second, "BACKGROUND_JOB of nosuchcommand", func(ev *esl.Event) bool {
		return ev.GetHeader("Event-Name") == "BACKGROUND_JOB" && ev.GetHeader("Job-UUID") == serverJob
	}, nil)
	assert.Equal(t, "-ERR nosuchcommand Command not found!\n", job.GetBody())

	// The idiomatic layer waits for the job itself.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := dial(t, e).BackgroundJob(ctx, "status", "")
	require.NoError(t, err)
	assert.NotEmpty(t, j.UUID)
	done, err := j.Wait(ctx)
	require.NoError(t, err)
	assert.Contains(t, done.GetBody(), "UP ")
}

// TestEventFormats follows one loopback call in each event format.
func TestEventFormats(t *testing.T) {
	e := setup(t)
	for _, format := range []string{"plain", "json", "xml"} {
		t.Run(format, func(t *testing.T) {
			c := dial(t, e)
			require.NoError(t, c.Events(format, "ALL"))

			uuid := newUUID()
			killAtEnd(t, e, uuid)
			reply := c.Bgapi("originate", loopbackCall(uuid))
			require.NotNil(t, reply)
			jobUUID := reply.GetHeader("Job-UUID")

			want := map[string]bool{"CHANNEL_CREATE": false, "CHANNEL_ANSWER": false, "BACKGROUND_JOB": false}
			seen := func(ev *esl.Event) {
				name := eventName(ev)
				switch {
				case name == "BACKGROUND_JOB" && field(ev, "Job-UUID") == jobUUID:
					want[name] = true
					assert.Contains(t, ev.GetBody(), "+OK "+uuid) // in xml, inside the document
				case field(ev, "Unique-ID") == uuid:
					if _, ok := want[name]; ok {
						want[name] = true
						if format != "xml" {
							assert.Equal(t, name, ev.GetType(), "GetType of a %s event", format)
						}
					}
				}
				if format == "xml" {
					assert.Equal(t, "text/event-xml", ev.GetHeader("Content-Type"))
					assert.Contains(t, ev.GetBody(), "<event>")
				}
			}
			recvUntil(t, c, 20*time.Second, "CHANNEL_CREATE, CHANNEL_ANSWER and BACKGROUND_JOB", func(*esl.Event) bool {
				return want["CHANNEL_CREATE"] && want["CHANNEL_ANSWER"] && want["BACKGROUND_JOB"]
			}, seen)

			assert.Contains(t, apiBody(t, c, "uuid_kill", uuid), "+OK")
			hangup := recvUntil(t, c, 20*time.Second, "CHANNEL_HANGUP_COMPLETE", func(ev *esl.Event) bool {
				return eventName(ev) == "CHANNEL_HANGUP_COMPLETE" && field(ev, "Unique-ID") == uuid
			}, seen)
			assert.Equal(t, "NORMAL_CLEARING", field(hangup, "Hangup-Cause"))
			recvUntil(t, c, 20*time.Second, "CHANNEL_DESTROY", func(ev *esl.Event) bool {
				return eventName(ev) == "CHANNEL_DESTROY" && field(ev, "Unique-ID") == uuid
			}, seen)
		})
	}
}

func TestFilters(t *testing.T) {
	e := setup(t)
	c := dial(t, e)

	// The filter first, so that no event of the subscription gets in before it.
	r := c.Filter("Event-Name", "CHANNEL_ANSWER")
	require.NotNil(t, r)
	assert.Equal(t, "+OK filter added. [Event-Name]=[CHANNEL_ANSWER]", r.GetHeader("Reply-Text"))
	r = c.SendRecv("filter Event-Name")
	require.NotNil(t, r)
	assert.Equal(t, "-ERR invalid syntax", r.GetHeader("Reply-Text"))
	require.NoError(t, c.Events("plain", "ALL"))

	// Only CHANNEL_ANSWER gets through, even the BACKGROUND_JOB of our own bgapi stays out.
	uuid := newUUID()
	killAtEnd(t, e, uuid)
	require.NotNil(t, c.Bgapi("originate", loopbackCall(uuid)))
	onlyAnswer := func(ev *esl.Event) {
		assert.Equal(t, "CHANNEL_ANSWER", ev.GetHeader("Event-Name"), "an event passed the filter")
	}
	recvUntil(t, c, 20*time.Second, "CHANNEL_ANSWER", func(ev *esl.Event) bool {
		return ev.GetHeader("Event-Name") == "CHANNEL_ANSWER" && ev.GetHeader("Unique-ID") == uuid
	}, onlyAnswer)
	assert.Contains(t, apiBody(t, c, "uuid_kill", uuid), "+OK")
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		if ev := c.RecvEventTimed(100); ev != nil {
			onlyAnswer(ev)
		}
	}

	r = c.Filter("delete", "all")
	require.NotNil(t, r)
	assert.Equal(t, "+OK filter deleted. [all][]", r.GetHeader("Reply-Text"))
}

func TestSendmsg(t *testing.T) {
	e := setup(t)
	c := dial(t, e)
	uuid := newUUID()
	require.NoError(t, c.Events("plain", "CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE"))
	require.NotNil(t, c.Filter("Unique-ID", uuid))
	originatePark(t, e, c, uuid)

	// execute, with the event-lock flag as in the documentation's example.
	assert.True(t, c.SetEventLock("true"))
	reply := c.Execute("playback", "silence_stream://300", uuid)
	require.NotNil(t, reply, "execute: %v", c.Err())
	assert.Equal(t, "+OK", reply.GetHeader("Reply-Text"))
	c.SetEventLock("false")
	done := recvUntil(t, c, 10*time.Second, "CHANNEL_EXECUTE_COMPLETE of playback", func(ev *esl.Event) bool {
		return ev.GetHeader("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" && ev.GetHeader("Application") == "playback"
	}, nil)
	assert.Equal(t, "silence_stream://300", done.GetHeader("Application-Data"))
	assert.Equal(t, "FILE PLAYED", done.GetHeader("Application-Response"))

	// The idiomatic form.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := c.ExecuteContext(ctx, "log", "INFO esl integration test", uuid)
	require.NoError(t, err)
	assert.Equal(t, "+OK", reply.GetHeader("Reply-Text"))

	// sendmsg hangup.
	msg := esl.NewEvent("sendmsg")
	msg.AddHeader("call-command", "hangup")
	msg.AddHeader("hangup-cause", "USER_BUSY")
	require.NoError(t, c.SendMSG(msg, uuid))
	hangup := recvUntil(t, c, 10*time.Second, "CHANNEL_HANGUP_COMPLETE", func(ev *esl.Event) bool {
		return ev.GetHeader("Event-Name") == "CHANNEL_HANGUP_COMPLETE"
	}, nil)
	assert.Equal(t, "USER_BUSY", hangup.GetHeader("Hangup-Cause"))

	// A uuid nobody has: SendMSG still returns nil once the server answered (as the SWIG
	// method returns 0); the -ERR is in the reply, as execute shows.
	unknown := newUUID()
	assert.NoError(t, c.SendMSG(msg, unknown))
	reply = c.Execute("answer", "", unknown)
	require.NotNil(t, reply)
	assert.Equal(t, "-ERR invalid session id ["+unknown+"]", reply.GetHeader("Reply-Text"))
}

func TestSendevent(t *testing.T) {
	e := setup(t)
	c := dial(t, e)
	subclass := "esl::integration"
	require.NoError(t, c.Events("plain", "CUSTOM "+subclass))

	ev := esl.NewEvent("CUSTOM", subclass)
	require.NotNil(t, ev)
	ev.AddHeader("X-Hello", "world")
	ev.AddBody("This is the body.\nSecond line.")
	reply := c.SendEvent(ev)
	require.NotNil(t, reply)
	// The command's own reply (the original returns a stale event here: spec Q26).
	text := reply.GetHeader("Reply-Text")
	require.True(t, strings.HasPrefix(text, "+OK "), "sendevent reply %q", text)
	eventUUID := strings.TrimPrefix(text, "+OK ")

	got := recvUntil(t, c, 10*time.Second, "the CUSTOM event", func(ev *esl.Event) bool {
		return ev.GetHeader("Event-Subclass") == subclass
	}, nil)
	assert.Equal(t, "CUSTOM", got.GetType())
	assert.Equal(t, "world", got.GetHeader("X-Hello"))
	assert.Equal(t, eventUUID, got.GetHeader("Event-UUID"))
	assert.Equal(t, "This is the body.\nSecond line.", got.GetBody())
}

func TestLog(t *testing.T) {
	e := setup(t)
	c := dial(t, e)

	r := c.SendRecv("log 7")
	require.NotNil(t, r)
	assert.Equal(t, "+OK log level 7 [7]", r.GetHeader("Reply-Text"))

	// A log line of our own: the dialplan application log, on a parked call.
	uuid := newUUID()
	originatePark(t, e, c, uuid)
	marker := "esl-integration-" + newUUID()
	reply := c.Execute("log", "NOTICE "+marker, uuid)
	require.NotNil(t, reply)
	assert.Equal(t, "+OK", reply.GetHeader("Reply-Text"))
	// The line of the log application itself is at NOTICE (5); FreeSWITCH also logs that
	// it EXECUTEs the application, with the marker in the line, at another level.
	line := recvUntil(t, c, 10*time.Second, "the NOTICE log line", func(ev *esl.Event) bool {
		return ev.GetHeader("Content-Type") == "log/data" && ev.GetHeader("Log-Level") == "5" &&
			strings.Contains(ev.GetBody(), marker)
	}, nil)
	assert.Equal(t, uuid, line.GetHeader("User-Data"))

	r = c.SendRecv("nolog")
	require.NotNil(t, r)
	assert.Equal(t, "+OK no longer logging", r.GetHeader("Reply-Text"))
	r = c.SendRecv("nolog")
	require.NotNil(t, r)
	assert.Equal(t, "-ERR not loging", r.GetHeader("Reply-Text"))
}

func TestRecvEventContext(t *testing.T) {
	e := setup(t)
	c := dial(t, e)
	require.NoError(t, c.Events("plain", "BACKGROUND_JOB"))
	require.NotNil(t, c.Bgapi("status", ""))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ev, err := range c.EventStream(ctx) {
		require.NoError(t, err)
		if ev.GetHeader("Event-Name") == "BACKGROUND_JOB" {
			break
		}
	}

	short, cancelShort := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelShort()
	_, err := c.RecvEventContext(short)
	assert.Error(t, err, "no event should arrive")
}
