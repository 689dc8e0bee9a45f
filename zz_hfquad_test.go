package esl
import ("testing";"strings";"time")
func TestZZQuad(t *testing.T){
  for _, n := range []int{1000, 10000, 40000} {
    js := `{"A":["e"` + strings.Repeat(`,"e"`, n-1) + `]}`
    t0 := time.Now(); e, err := NewEventJSON(js); d1 := time.Since(t0)
    t0 = time.Now(); e2 := NewEvent("CUSTOM"); e2.AddHeader("B", "ARRAY::e"+strings.Repeat("|:e", n-1)); d2 := time.Since(t0)
    t.Log(n, err, len(e.HeaderValues("A")), d1, len(e2.HeaderValues("B")), d2)
  }
}
