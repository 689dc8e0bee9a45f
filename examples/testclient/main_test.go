package main

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/esltest"
)

func TestStatus(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	var out, errOut bytes.Buffer
	err := run([]string{"-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-p", srv.Password()}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.Contains(t, out.String(), "UP ")
	assert.Contains(t, out.String(), "is ready")
}

// A command that is not api answers in Reply-Text.
func TestReplyText(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	var out, errOut bytes.Buffer
	err := run([]string{"-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-cmd", "event plain ALL"}, &out, &errOut)
	require.NoError(t, err)
	assert.Equal(t, "+OK event listener enabled plain\n", out.String())
}

func TestBadPassword(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	var out, errOut bytes.Buffer
	err := run([]string{"-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-p", "nope"}, &out, &errOut)
	require.Error(t, err)
	if esl.Backend() == "csrc" { // the original libesl loses the reason (its quirk Q9)
		assert.ErrorIs(t, err, esl.ErrAuth)
	}
	assert.Empty(t, out.String())
}
