package esl

import (
	"testing"

	"github.com/cgoesl/esl/esltest"
)

func TestSmoke(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	c := NewConnection(srv.Host(), srv.Port(), "ClueCon")
	if !c.Connected() {
		t.Fatal(c.Err())
	}
	defer c.Disconnect()
	ev := c.Api("status")
	t.Logf("api: %q", ev.Serialize())
	t.Logf("ct=%s body=%q", ev.ContentType(), ev.GetBody())
	ev = c.Api("version")
	t.Logf("version %q", ev.GetBody())
	c.Events("plain", "ALL")
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "a::b", "X": "y z"}, "hello")
	e := c.RecvEventTimed(1000)
	t.Logf("ev %v", e.Serialize("json"))
}
