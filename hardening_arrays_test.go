package esl

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Building an array header of n elements takes time linear in n (spec 16.1b), through
// NewEventJSON and through AddHeader with an ARRAY:: value. Both used to render the whole
// array again after every element: 40,000 elements took seconds, 400,000 hours.
func TestHardeningLinearArrays(t *testing.T) {
	const n = 400000
	start := time.Now()
	done := make(chan [2]int, 1)
	go func() {
		e, err := NewEventJSON(`{"A":["e"` + strings.Repeat(`,"e"`, n-1) + `]}`)
		if err != nil {
			t.Error(err)
		}
		e2 := NewEvent("CUSTOM")
		e2.AddHeader("B", "ARRAY::e"+strings.Repeat("|:e", n-1))
		done <- [2]int{len(e.HeaderValues("A")), len(e2.HeaderValues("B"))}
	}()
	select {
	case got := <-done:
		if got != [2]int{n, n} {
			t.Fatalf("elements: %v, want %d each", got, n)
		}
	case <-time.After(20 * time.Second):
		// (quadratic, this would take hours; the goroutine is left to the end of the process)
		t.Fatalf("two arrays of %d elements not built within 20 s", n)
	}
	t.Logf("two arrays of %d elements in %v", n, time.Since(start).Round(time.Millisecond))
}

// The linear way gives exactly what pushing one element at a time gives, with libesl's
// rules (an empty first element is dropped, one containing ARRAY:: is split again, names
// with an index and _body have their own effects).
func TestHardeningPushAllMatchesPushes(t *testing.T) {
	names := []string{"A", "a", "_body", "A[1]", "B"}
	pieces := []string{"", "x", "ARRAY::y|:z", "ARRAY::", "q|r", "pre ARRAY::s"}
	for seed := uint64(0); seed < 5000; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		one, bulk := NewEvent("CUSTOM"), NewEvent("CUSTOM")
		if r.IntN(2) == 0 {
			one.AddHeader("A", "v")
			bulk.AddHeader("A", "v")
		}
		name := names[r.IntN(len(names))]
		vals := make([]string, r.IntN(6))
		for i := range vals {
			vals[i] = pieces[r.IntN(len(pieces))]
		}
		for _, v := range vals {
			one.addHeader(stackPush, name, v)
		}
		bulk.pushAll(name, vals)
		if a, b := one.Serialize("json"), bulk.Serialize("json"); a != b {
			t.Fatalf("seed %d: push %q onto %q:\none by one %q\nat once    %q", seed, vals, name, a, b)
		}
	}
}
