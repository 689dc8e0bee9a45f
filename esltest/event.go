package esltest

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cgoesl/esl/internal/ascii"
)

// Header is one event header. Values are raw (not URL-encoded); a value that
// starts with "ARRAY::" is an array header whose items are separated by "|:".
type Header struct {
	Name  string
	Value string
}

// eventTypes lists the event type names in the order of the libesl enum
// (spec 4.2), plus CERT_RELOAD which the server knows but libesl does not.
var eventTypes = []string{
	"CUSTOM", "CLONE", "CHANNEL_CREATE", "CHANNEL_DESTROY", "CHANNEL_STATE",
	"CHANNEL_CALLSTATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
	"CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
	"CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
	"CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_APPLICATION",
	"CHANNEL_ORIGINATE", "CHANNEL_UUID", "API", "LOG", "INBOUND_CHAN", "OUTBOUND_CHAN",
	"STARTUP", "SHUTDOWN", "PUBLISH", "UNPUBLISH", "TALK", "NOTALK", "SESSION_CRASH",
	"MODULE_LOAD", "MODULE_UNLOAD", "DTMF", "MESSAGE", "PRESENCE_IN", "NOTIFY_IN",
	"PRESENCE_OUT", "PRESENCE_PROBE", "MESSAGE_WAITING", "MESSAGE_QUERY", "ROSTER",
	"CODEC", "BACKGROUND_JOB", "DETECTED_SPEECH", "DETECTED_TONE", "PRIVATE_COMMAND",
	"HEARTBEAT", "TRAP", "ADD_SCHEDULE", "DEL_SCHEDULE", "EXE_SCHEDULE", "RE_SCHEDULE",
	"RELOADXML", "NOTIFY", "PHONE_FEATURE", "PHONE_FEATURE_SUBSCRIBE", "SEND_MESSAGE",
	"RECV_MESSAGE", "REQUEST_PARAMS", "CHANNEL_DATA", "GENERAL", "COMMAND",
	"SESSION_HEARTBEAT", "CLIENT_DISCONNECTED", "SERVER_DISCONNECTED", "SEND_INFO",
	"RECV_INFO", "RECV_RTCP_MESSAGE", "SEND_RTCP_MESSAGE", "CALL_SECURE", "NAT",
	"RECORD_START", "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE",
	"FAILURE", "SOCKET_DATA", "MEDIA_BUG_START", "MEDIA_BUG_STOP",
	"CONFERENCE_DATA_QUERY", "CONFERENCE_DATA", "CALL_SETUP_REQ", "CALL_SETUP_RESULT",
	"CALL_DETAIL", "DEVICE_STATE", "TEXT", "SHUTDOWN_REQUESTED", "CERT_RELOAD",
}

const numEventTypes = 94 // len(eventTypes); index 93 stands for ALL in subscriptions

const typeAll = numEventTypes - 1

// eventTypeID returns the index of an event type name, matched the way the
// server does it: case-insensitively, and a name longer than 13 characters
// also matches by what follows its first 13 (so SWITCH_EVENT_DTMF means DTMF).
func eventTypeID(name string) (int, bool) {
	for _, cand := range []string{name, skip13(name)} {
		if cand == "" {
			continue
		}
		if strings.EqualFold(cand, "ALL") {
			return typeAll, true
		}
		for i, t := range eventTypes {
			if strings.EqualFold(t, cand) {
				return i, true
			}
		}
	}
	return 0, false
}

func skip13(name string) string {
	if len(name) > 13 {
		return name[13:]
	}
	return ""
}

// Event is one event as it travels through the fake's bus. Headers keep
// their insertion order, duplicates included, as FreeSWITCH serializes them.
type Event struct {
	typ      int
	subclass string
	headers  []Header
	body     string
	hasBody  bool

	once [3]sync.Once
	enc  [3][]byte

	// The values session subscriptions compare (myevents, filters by session), looked up
	// once: every listener's subscription asks for them.
	idsOnce      sync.Once
	uid, jobUUID string
}

func newEvent(typ int) *Event { return &Event{typ: typ} }

func (e *Event) add(name, value string) { e.headers = append(e.headers, Header{name, value}) }

// get returns the first header with that name (case-insensitive like the server).
func (e *Event) get(name string) (string, bool) {
	for _, h := range e.headers {
		if ascii.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// sessionIDs returns the event's Unique-ID and Job-Owner-UUID. Like its encodings, it is
// worked out once: an event does not change once it travels.
func (e *Event) sessionIDs() (uid, jobOwner string) {
	e.idsOnce.Do(func() {
		e.uid, _ = e.get("Unique-ID")
		e.jobUUID, _ = e.get("Job-Owner-UUID")
	})
	return e.uid, e.jobUUID
}

func (e *Event) setBody(b string) { e.body, e.hasBody = b, true }

// Name returns the Event-Name of the event.
func (e *Event) Name() string {
	if e.typ >= 0 && e.typ < len(eventTypes) {
		return eventTypes[e.typ]
	}
	return "CUSTOM"
}

// Headers returns a copy of the headers in order.
func (e *Event) Headers() []Header { return append([]Header(nil), e.headers...) }

// Body returns the event body.
func (e *Event) Body() string { return e.body }

// encoded returns the event body for a format, encoded once and cached: the
// same event is often delivered to many listeners.
func (e *Event) encoded(f format) []byte {
	e.once[f].Do(func() {
		switch f {
		case formatJSON:
			e.enc[f] = encodeJSON(e)
		case formatXML:
			e.enc[f] = encodeXML(e)
		default:
			e.enc[f] = encodePlain(e)
		}
	})
	return e.enc[f]
}

// frame returns the complete socket message for a format: Content-Length
// before Content-Type, as the server writes events.
func (e *Event) frame(f format) []byte {
	body := e.encoded(f)
	ct := "text/event-plain"
	switch f {
	case formatJSON:
		ct = "text/event-json"
	case formatXML:
		ct = "text/event-xml"
	}
	out := make([]byte, 0, len(body)+64)
	out = append(out, "Content-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\nContent-Type: "...)
	out = append(out, ct...)
	out = append(out, "\n\n"...)
	return append(out, body...)
}

// stdHeaders appends the headers every fired event carries, in the server's order.
func (s *Server) stdHeaders(e *Event, file, fn string, line int, now time.Time) {
	e.add("Event-Name", e.Name())
	e.add("Core-UUID", s.coreUUID)
	e.add("FreeSWITCH-Hostname", s.hostname)
	e.add("FreeSWITCH-Switchname", s.hostname)
	e.add("FreeSWITCH-IPv4", s.ipv4)
	e.add("FreeSWITCH-IPv6", s.ipv6)
	e.add("Event-Date-Local", now.Local().Format("2006-01-02 15:04:05"))
	e.add("Event-Date-GMT", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
	e.add("Event-Date-Timestamp", strconv.FormatInt(now.UnixMicro(), 10))
	e.add("Event-Calling-File", file)
	e.add("Event-Calling-Function", fn)
	e.add("Event-Calling-Line-Number", strconv.Itoa(line))
	e.add("Event-Sequence", strconv.FormatUint(s.seq.Add(1), 10))
}

// newStdEvent creates an event carrying the standard headers.
func (s *Server) newStdEvent(typ int, file, fn string, line int) *Event {
	e := newEvent(typ)
	s.stdHeaders(e, file, fn, line, time.Now())
	return e
}
