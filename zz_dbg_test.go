//go:build cgo

package esl

import (
	"testing"
	"time"
)

func TestZZDbg(t *testing.T) {
	srv := fakeFS(t)
	c := inbound(t, srv)
	c.Events("plain", "ALL")
	tmpl := streamTemplate(t)
	DbgRecv.Store(0)
	DbgRoute.Store(0)
	const n = 100000
	start := time.Now()
	go srv.Stream(n, tmpl)
	for i := 0; i < n; i++ {
		c.RecvEvent()
	}
	el := time.Since(start)
	t.Logf("total %v, per event %v; in C recv %v (%v/ev), route %v", el, el/n, time.Duration(DbgRecv.Load()), time.Duration(DbgRecv.Load())/n, time.Duration(DbgRoute.Load()))
}
