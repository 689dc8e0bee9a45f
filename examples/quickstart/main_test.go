package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/esltest"
)

func runQuickstart(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut)
	t.Logf("output:\n%s%s", out.String(), errOut.String())
	return out.String(), err
}

// The call of the Perl example, digits and all.
func assertWholeCall(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{
		"Call to loopback/9196/default has Job-UUID of ",
		"Result of call to loopback/9196/default was +OK ",
		"Received DTMF digit: 1\n",
		"Received DTMF digit: 2\n",
		"Received DTMF digit: 3\n",
		"Received DTMF digit: #\n",
		"Exiting...\n",
		"Call ended: NORMAL_CLEARING\n",
	} {
		assert.Contains(t, out, want)
	}
}

func TestEmbedded(t *testing.T) {
	t.Setenv("ESL_ADDR", "")
	t.Setenv("ESL_PASSWORD", "")
	out, err := runQuickstart(t)
	require.NoError(t, err)
	assert.Contains(t, out, "started an embedded fake FreeSWITCH")
	assertWholeCall(t, out)
}

func TestAgainstServer(t *testing.T) {
	srv := esltest.NewServer(esltest.WithPassword("s3cret"))
	defer srv.Close()
	out, err := runQuickstart(t, "-addr", srv.Addr(), "-password", "s3cret")
	require.NoError(t, err)
	assert.NotContains(t, out, "embedded")
	assertWholeCall(t, out)

	// The call is gone afterwards.
	require.Eventually(t, func() bool { return len(srv.Channels()) == 0 }, 5*time.Second, 20*time.Millisecond)
}

func TestEnvironment(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	t.Setenv("ESL_ADDR", srv.Addr())
	t.Setenv("ESL_PASSWORD", srv.Password())
	out, err := runQuickstart(t, "-dtmf", "42*")
	require.NoError(t, err)
	assert.Contains(t, out, "Connected to "+srv.Addr())
	assert.Contains(t, out, "Received DTMF digit: 4\n")
	assert.Contains(t, out, "Received DTMF digit: *\n")
}

func TestNoDigits(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	out, err := runQuickstart(t, "-addr", srv.Addr(), "-dtmf=", "-timeout", "300ms")
	require.NoError(t, err)
	assert.Contains(t, out, "Waiting up to 300ms for digits")
	assert.Contains(t, out, "No digit ended the call within 300ms")
	assert.Contains(t, out, "Call ended: NORMAL_CLEARING")
}

func TestFailedCall(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	// Extension 9486 of the fake's dialplan hangs up with USER_BUSY.
	out, err := runQuickstart(t, "-addr", srv.Addr(), "loopback/9486/default")
	require.NoError(t, err)
	assert.Contains(t, out, "Result of call to loopback/9486/default was -ERR")
	assert.NotContains(t, out, "Received DTMF")
}

func TestBadPassword(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	_, err := runQuickstart(t, "-addr", srv.Addr(), "-password", "wrong")
	require.Error(t, err)
	if esl.Backend() == "csrc" { // the original libesl loses the reason (its quirk Q9)
		assert.ErrorIs(t, err, esl.ErrAuth)
	}
	assert.Contains(t, err.Error(), "unable to establish connection")
}
