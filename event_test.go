package esl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewEventTypes(t *testing.T) {
	for _, tc := range []struct {
		typ, sub, wantType, wantName string
	}{
		{"CUSTOM", "", "CUSTOM", "CUSTOM"},
		{"channel_answer", "", "CHANNEL_ANSWER", "CHANNEL_ANSWER"},
		{"SWITCH_EVENT_DTMF", "", "DTMF", "DTMF"},
		{"no-such-event", "", "MESSAGE", "MESSAGE"},
		{"server_disconnected", "", "SERVER_DISCONNECTED", "SERVER_DISCONNECTED"},
		{"HEARTBEAT", "my::sub", "CUSTOM", "CUSTOM"},
		{"ALL", "", "ALL", "ALL"},
	} {
		e := NewEvent(tc.typ, tc.sub)
		require.NotNil(t, e, tc.typ)
		assert.Equal(t, tc.wantType, e.GetType(), tc.typ)
		assert.Equal(t, tc.wantName, e.GetHeader("Event-Name"), tc.typ)
		assert.Equal(t, tc.sub, e.GetHeader("event-subclass"), tc.typ)
	}
	// CLONE keeps id 0 (CUSTOM) and gets no Event-Name, as esl_event_create does.
	e := NewEvent("CLONE")
	assert.Equal(t, "CUSTOM", e.GetType())
	assert.Equal(t, 0, e.Len())
	assert.Equal(t, "{\n}", e.Serialize("json"))
	assert.Equal(t, "\n", e.Serialize())
}

func TestNewEventJSON(t *testing.T) {
	e := NewEvent("json", `{"Event-Name":"CHANNEL_ANSWER","Unique-ID":"u1","Arr":["a","b",3],"n":5,"_body":"hi %s"}`)
	require.NotNil(t, e)
	assert.Equal(t, "CHANNEL_ANSWER", e.GetType())
	assert.Equal(t, "u1", e.GetHeader("unique-id"))
	assert.Equal(t, "ARRAY::a|:b", e.GetHeader("Arr"))
	assert.Equal(t, "b", e.GetHeader("Arr", 1))
	assert.Equal(t, "", e.GetHeader("n"))
	assert.Equal(t, "hi %s", e.GetBody(), "the body is literal, never a format")

	assert.Nil(t, NewEvent("json", `{"broken":`), "invalid JSON gives nil instead of a crash")
	_, err := NewEventJSON(`[1,2]`)
	assert.ErrorIs(t, err, ErrBadArgument)
	// An empty subclass means no JSON: the type "json" is unknown, so MESSAGE.
	assert.Equal(t, "MESSAGE", NewEvent("json").GetType())

	e, err = NewEventJSON(`{"A":"x\u00e9\ud83d\ude00\n\"q\"","B":{"deep":[1,{"x":null}]},"C":true} trailing`)
	require.NoError(t, err)
	assert.Equal(t, "xé😀\n\"q\"", e.GetHeader("A"))
	assert.Equal(t, 1, e.Len())
}

// The example of the header insertion rules (spec section 5), verified on the original.
func TestHeaderInsertionQuirks(t *testing.T) {
	e := NewEvent("CUSTOM")
	e.addHeader(stackBottom, "A", "1")
	e.addHeader(stackTop, "A", "2")
	e.addHeader(stackTop, "B", "3")
	e.UnshiftHeader("C", "x")
	e.UnshiftHeader("C", "y")
	e.PushHeader("D", "p")
	e.PushHeader("D", "q")
	e.SetPriority(PriorityHigh)
	assert.Equal(t, "priority: HIGH\nC: ARRAY::x|:y\nB: 3\nEvent-Name: CUSTOM\nA: 2\nD: ARRAY::p|:q\n\n",
		e.serializePlain(false))
	assert.Equal(t, "{\n\t\"priority\":\t[\"HIGH\"],\n\t\"C\":\t[\"x\", \"y\"],\n\t\"B\":\t[\"3\"],\n"+
		"\t\"Event-Name\":\t\"CUSTOM\",\n\t\"A\":\t\"2\",\n\t\"D\":\t[\"p\", \"q\"]\n}", e.Serialize("JSON"))
	assert.Equal(t, PriorityHigh, e.Priority())
}

func TestEventTwins(t *testing.T) {
	e := NewEvent("CUSTOM", "test::sub")
	require.True(t, e.AddHeader("X-Key", "a value & more"))
	require.True(t, e.AddHeader("Multi", "ARRAY::one|:two|:three"))
	assert.Equal(t, "two", e.GetHeader("multi", 1))
	assert.Equal(t, "", e.GetHeader("multi", 3))
	assert.Equal(t, "", e.GetHeader("X-Key", 0), "a scalar has no elements")
	assert.Equal(t, "ARRAY::one|:two|:three", e.GetHeader("MULTI"))
	assert.Equal(t, []string{"one", "two", "three"}, e.HeaderValues("Multi"))

	require.True(t, e.AddBody("first"))
	require.True(t, e.AddBody("second"))
	assert.Equal(t, "second", e.GetBody(), "addBody replaces")
	assert.Equal(t, "second", e.GetHeader("_body"))

	assert.Equal(t, "Event-Name: CUSTOM\nEvent-Subclass: test%3A%3Asub\nX-Key: a%20value%20%26%20more\n"+
		"Multi: ARRAY%3A%3Aone%7C%3Atwo%7C%3Athree\nContent-Length: 6\n\nsecond", e.Serialize())
	assert.Equal(t, e.Serialize(), e.Serialize("xml"), "xml means plain, as in SWIG")
	assert.Equal(t, "{\n\t\"Event-Name\":\t\"CUSTOM\",\n\t\"Event-Subclass\":\t\"test::sub\",\n"+
		"\t\"X-Key\":\t\"a value & more\",\n\t\"Multi\":\t[\"one\", \"two\", \"three\"],\n"+
		"\t\"Content-Length\":\t\"6\",\n\t\"_body\":\t\"second\"\n}", e.Serialize("json"))

	var names []string
	for n := e.FirstHeader(); n != ""; n = e.NextHeader() {
		names = append(names, n)
	}
	assert.Equal(t, []string{"Event-Name", "Event-Subclass", "X-Key", "Multi"}, names)
	assert.Equal(t, "", e.NextHeader())
	assert.Equal(t, "Event-Name", e.FirstHeader())

	var pairs [][2]string
	for n, v := range e.Headers() {
		pairs = append(pairs, [2]string{n, v})
	}
	assert.Len(t, pairs, 4)
	assert.Equal(t, [2]string{"X-Key", "a value & more"}, pairs[2])

	e.AddHeader("Dup", "1")
	e.AddHeader("dup", "2")
	assert.Equal(t, "1", e.GetHeader("DUP"))
	assert.True(t, e.DelHeader("Dup"))
	_, ok := e.Header("dup")
	assert.False(t, ok)
	assert.True(t, e.DelHeader("never-there"), "like the original, always true")

	// An empty value deletes, an index extends an array, an index past 4000 is ignored.
	e.AddHeader("X-Key", "")
	_, ok = e.Header("X-Key")
	assert.False(t, ok)
	e.AddHeader("Idx[2]", "c")
	assert.Equal(t, "ARRAY::|:|:c", e.GetHeader("Idx"))
	e.AddHeader("Idx[0]", "a")
	assert.Equal(t, "a", e.GetHeader("Idx", 0))
	assert.Equal(t, "ARRAY::|:|:c", e.GetHeader("Idx"), "an in-place replacement leaves the rendered value stale")
	e.AddHeader("Idx[4001]", "z")
	assert.Equal(t, 3, len(e.HeaderValues("Idx")))

	c := e.Clone()
	c.PushHeader("Multi", "four")
	assert.Equal(t, "ARRAY::one|:two|:three", e.GetHeader("Multi"), "clones are independent")
}

func TestNilEvent(t *testing.T) {
	var e *Event
	assert.Equal(t, "", e.Serialize())
	assert.Equal(t, "invalid", e.GetType())
	assert.Equal(t, "", e.GetHeader("x"))
	assert.Equal(t, "", e.GetBody())
	assert.False(t, e.AddHeader("a", "b"))
	assert.False(t, e.PushHeader("a", "b"))
	assert.False(t, e.UnshiftHeader("a", "b"))
	assert.False(t, e.AddBody("b"))
	assert.False(t, e.DelHeader("a"))
	assert.False(t, e.SetPriority(PriorityLow))
	assert.Equal(t, "", e.FirstHeader())
	assert.Equal(t, "", e.NextHeader())
	assert.Nil(t, e.Clone())
	for range e.Headers() {
		t.Fatal("no headers")
	}
}

func TestURLEncodeAndJSONEscapes(t *testing.T) {
	assert.Equal(t, "a%20b%25c%2B%3A%0A~%7F%C3%A9", urlEncodeString("a b%c+:\n~\x7fé"))
	e := NewEvent("CLONE")
	e.AddHeader("K", "tab\tnl\ncr\rq\"bs\\ctl\x01/é")
	assert.Equal(t, "{\n\t\"K\":\t\"tab\\tnl\\ncr\\rq\\\"bs\\\\ctl\\u0001/é\"\n}", e.Serialize("json"))
}

func TestEventNames(t *testing.T) {
	assert.Len(t, eventNames, evAll+1)
	for id, want := range map[int]string{evCustom: "CUSTOM", evClone: "CLONE", evMessage: "MESSAGE",
		evBackgroundJob: "BACKGROUND_JOB", evServerDisconnected: "SERVER_DISCONNECTED", evSocketData: "SOCKET_DATA"} {
		assert.Equal(t, want, eventName(id))
	}
	id, ok := nameEvent("xxxxxxxxxxxxxchannel_create")
	assert.True(t, ok, "any 13-character prefix is skipped, as in esl_name_event")
	assert.Equal(t, "CHANNEL_CREATE", eventName(id))
}

func TestRawCommand(t *testing.T) {
	for in, want := range map[string]string{
		"api status":                                   "api status\n\n",
		"api status\n":                                 "api status\n\n",
		"api status\r\n\r\n":                           "api status\n\n",
		"\napi status\n\n\n":                           "api status\n\n",
		"sendmsg u\ncall-command: hangup":              "sendmsg u\ncall-command: hangup\n\n",
		"sendevent CUSTOM\nContent-Length: 5\n\nhello": "sendevent CUSTOM\nContent-Length: 5\n\nhello",
		"sendevent X\ncontent-length:2\n\nab\n\n":      "sendevent X\ncontent-length:2\n\nab",
	} {
		b, err := rawCommand("send", in)
		require.NoError(t, err, in)
		assert.Equal(t, want, string(b), in)
	}
	for _, in := range []string{"", "\n\n", "api a\n\napi b", "api a\r\nx: y", "api \x00", "x\nContent-Length: 9\n\nshort"} {
		_, err := rawCommand("send", in)
		assert.ErrorIs(t, err, ErrBadArgument, "%q", in)
	}
}

func TestCommandBuilders(t *testing.T) {
	b, err := apiCommand("api", "status", "")
	require.NoError(t, err)
	assert.Equal(t, "api status\n\n", string(b), "no trailing space (Q31 fixed)")
	_, err = apiCommand("api", "echo", "a\nb")
	assert.ErrorIs(t, err, ErrBadArgument)
	_, err = apiCommand("api", "", "")
	assert.ErrorIs(t, err, ErrBadArgument)

	b, err = bgapiCommand("originate", "a b", "job-1")
	require.NoError(t, err)
	assert.Equal(t, "bgapi originate a b\nJob-UUID: job-1\n\n", string(b))

	b, err = executeCommand("playback", "/tmp/x.wav", "uuid-1", true, true)
	require.NoError(t, err)
	assert.Equal(t, "sendmsg uuid-1\ncall-command: execute\nexecute-app-name: playback\n"+
		"execute-app-arg: /tmp/x.wav\nevent-lock: true\nasync: true\n\n", string(b))
	b, err = executeCommand("answer", "", "", false, false)
	require.NoError(t, err)
	assert.Equal(t, "sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n", string(b))
	_, err = executeCommand("playback", "x\r", "", false, false)
	assert.ErrorIs(t, err, ErrBadArgument)

	e := NewEvent("CUSTOM", "a::b")
	e.AddHeader("Content-Length", "99")
	e.AddHeader("X", "y z")
	e.AddBody("body")
	b, err = eventCommand("sendevent", "sendevent CUSTOM", e)
	require.NoError(t, err)
	assert.Equal(t, "sendevent CUSTOM\nEvent-Name: CUSTOM\nEvent-Subclass: a::b\nX: y z\nContent-Length: 4\n\nbody", string(b))
	e.AddHeader("Bad", "line\nbreak")
	_, err = eventCommand("sendevent", "sendevent CUSTOM", e)
	assert.ErrorIs(t, err, ErrBadArgument)

	for s, want := range map[string]bool{"1": true, "true": true, "YES": true, "on": true, "allow": true,
		"0": false, "": false, "no": false, "2x": true, "garbage": false} {
		assert.Equal(t, want, eslTrue(s), s)
	}
}
