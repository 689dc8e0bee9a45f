//go:build cgo

package esl

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

// textEvent packs a plain event body as the receive path does and checks that it was kept
// as its text.
func textEvent(t *testing.T, body string) *Event { return textEventAs(t, body, formPlainText) }

// textEventAs packs a plain or JSON event body (form formPlainText or formJSONText) as the
// receive path does and checks that it was kept in that form.
func textEventAs(t *testing.T, body string, form uint8) *Event {
	t.Helper()
	e, r := packInner([]byte(body), form == formJSONText, true)
	if r == -2 {
		t.Skip("events are kept as text only with csrc (not under the libesl tag)")
	}
	if r != 1 || e == nil || e.form != form {
		t.Fatalf("not kept as text (result %d): %q", r, body)
	}
	return e
}

// lookup is a header name and the value GetHeader must give for it.
type lookup struct{ name, want string }

func checkLookups(t *testing.T, e *Event, lookups []lookup) {
	t.Helper()
	for _, c := range lookups {
		if got := e.GetHeader(c.name); got != c.want {
			t.Errorf("GetHeader(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

const textSample = "Event-Name: CHANNEL_ANSWER\nUnique-ID: u1\nEvent-Date-Local: 2026-11-28%2002%3A55%3A36\n" +
	"channel-read-codec-name: PCMU\nChannel-Read-Codec-Name: L16\nVariable_x:   spaced%20out\n" +
	"Content-Length: 5\n\nhello"

// A text event answers lookups from its text, case-insensitively and first match first, with
// values decoded; everything else sees the same headers.
func TestTextEventLookups(t *testing.T) {
	e := textEvent(t, textSample)
	checkLookups(t, e, []lookup{
		{"Event-Name", "CHANNEL_ANSWER"},
		{"unique-id", "u1"},
		{"Event-Date-Local", "2026-11-28 02:55:36"},
		{"Channel-Read-Codec-Name", "PCMU"},
		{"variable_x", "spaced out"},
		{"_body", "hello"},
	})
	if v, ok := e.Header("Missing"); ok || v != "" {
		t.Errorf("Header(Missing) = %q %v", v, ok)
	}
	if v := e.GetHeader("Unique-ID", 0); v != "" {
		t.Errorf("GetHeader(Unique-ID, 0) = %q: a text event has no arrays", v)
	}
	if e.GetType() != "CHANNEL_ANSWER" || !e.HasBody() || e.GetBody() != "hello" {
		t.Errorf("type %s, body %v %q", e.GetType(), e.HasBody(), e.GetBody())
	}
	if e.table != nil {
		t.Error("lookups built the header table")
	}
	if n := e.Len(); n != 7 {
		t.Errorf("Len = %d, want 7", n)
	}
	var names []string
	for name := e.FirstHeader(); name != ""; name = e.NextHeader() {
		names = append(names, name)
	}
	want := []string{"Event-Name", "Unique-ID", "Event-Date-Local", "channel-read-codec-name",
		"Channel-Read-Codec-Name", "Variable_x", "Content-Length"}
	if !slices.Equal(names, want) {
		t.Errorf("headers %q, want %q", names, want)
	}
	if s := e.Serialize(); !strings.Contains(s, "Event-Date-Local: 2026-11-28%2002%3A55%3A36\n") {
		t.Errorf("Serialize lost the encoded value:\n%s", s)
	}
}

// Changes turn a text event into an ordinary one; its clone keeps the text.
func TestTextEventChanges(t *testing.T) {
	e := textEvent(t, textSample)
	c := e.Clone()
	e.AddHeader("X-New", "1")
	e.DelHeader("Unique-ID")
	e.AddHeader("Event-Date-Local", "")
	if e.form != formHeaders || e.GetHeader("X-New") != "1" || e.GetHeader("Unique-ID") != "" || e.GetHeader("Event-Date-Local") != "" {
		t.Errorf("after changes: form %v, X-New %q, Unique-ID %q", e.form, e.GetHeader("X-New"), e.GetHeader("Unique-ID"))
	}
	if c.form != formPlainText || c.GetHeader("Unique-ID") != "u1" || c.GetHeader("X-New") != "" || c.Len() != 7 {
		t.Errorf("the clone changed: form %v, Unique-ID %q, Len %d", c.form, c.GetHeader("Unique-ID"), c.Len())
	}
}

// Several goroutines read one text event at once, some of them building its header table
// (run under -race by ./build.sh test).
func TestTextEventConcurrentReads(t *testing.T) {
	for range 50 {
		e := textEvent(t, textSample)
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var got string
				switch g % 4 {
				case 0:
					got = e.GetHeader("Unique-ID")
				case 1:
					got = e.HeaderValues("unique-id")[0]
				case 2:
					for name, v := range e.Headers() {
						if name == "Unique-ID" {
							got = v
						}
					}
				case 3:
					got = e.Clone().GetHeader("UNIQUE-ID")
				}
				if got != "u1" {
					errs <- got
				}
			}()
		}
		wg.Wait()
		close(errs)
		for got := range errs {
			t.Fatalf("a concurrent reader got %q", got)
		}
	}
}

func TestPlainValue(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"   ":         "",
		"  a b ":      "a b ",
		"%41%3a%3A":   "A::",
		"%00%4":       "%00%4",
		"x%zz%":       "x%zz%",
		"%2":          "%2",
		"%%41":        "%A",
		"a%20b%0a":    "a b\n",
		"\t%20":       "\t ",
		"%C3%A9t%C3%": "\xc3\xa9t\xc3%",
	} {
		if got := plainValue(in); got != want {
			t.Errorf("plainValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// A JSON event kept as its text: lookups walk the members, "_body" is the body, escapes are
// decoded only in what is returned.
func TestTextEventJSON(t *testing.T) {
	body := ` {"Event-Name":"CHANNEL_ANSWER", "Unique-ID" : "u1","A":"x\"y\\z\/\n","a":"second",` +
		`"_body":"b\tc","Z":"fd00::2"}` + "\n"
	e := textEventAs(t, body, formJSONText)
	checkLookups(t, e, []lookup{
		{"event-name", "CHANNEL_ANSWER"},
		{"Unique-ID", "u1"},
		{"a", "x\"y\\z/\n"},
		{"Z", "fd00::2"},
		{"_body", "b\tc"},
	})
	if e.GetType() != "CHANNEL_ANSWER" || !e.HasBody() || e.GetBody() != "b\tc" {
		t.Errorf("type %s, body %v %q", e.GetType(), e.HasBody(), e.GetBody())
	}
	var names []string
	for name, v := range e.Headers() {
		names = append(names, name+"="+v)
	}
	want := []string{"Event-Name=CHANNEL_ANSWER", "Unique-ID=u1", "A=x\"y\\z/\n", "a=second", "Z=fd00::2"}
	if !slices.Equal(names, want) {
		t.Errorf("headers %q, want %q", names, want)
	}
}

// The same members written compactly, as FreeSWITCH writes them: C checks the text on its
// fast path, escapes included, and gives the table of where the members start, which the
// lookups use.
func TestTextEventJSONCompact(t *testing.T) {
	body := `{"Event-Name":"CHANNEL_ANSWER","A":"x\"y\\","Unique-ID":"u1","B":"say \"hi\"\\",` +
		`"_body":"b\tc","Z":"fd00::2"}`
	e := textEventAs(t, body, formJSONText)
	if len(e.memberAt) == 0 {
		t.Fatalf("no member table for a compact text")
	}
	checkLookups(t, e, []lookup{
		{"event-name", "CHANNEL_ANSWER"},
		{"a", "x\"y\\"},
		{"unique-id", "u1"},
		{"B", "say \"hi\"\\"},
		{"Z", "fd00::2"},
		{"_body", "b\tc"},
		{"missing", ""},
		// a name with a quote in it is no member's (names here have no escapes), however the
		// text after a member's name reads
		{`Unique-ID":"u1`, ""},
		{`A":"x\"y\\`, ""},
	})
}

func TestJSONValue(t *testing.T) {
	for in, want := range map[string]string{
		``:                 ``,
		`plain`:            `plain`,
		`\"\\\/\b\f\n\r\t`: "\"\\/\b\f\n\r\t",
		`a\\`:              `a\`,
		`\\n`:              `\n`,
		`x\ty`:             "x\ty",
	} {
		if got := jsonValue(in); got != want {
			t.Errorf("jsonValue(%q) = %q, want %q", in, got, want)
		}
	}
}
