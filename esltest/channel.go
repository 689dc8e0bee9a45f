package esltest

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// srcLoc is where FreeSWITCH fires an event (Event-Calling-* headers).
type srcLoc struct {
	file, fn string
	line     int
}

var eventSource = map[string]srcLoc{
	"CODEC_READ":               {"switch_core_codec.c", "switch_core_session_set_read_codec", 300},
	"CODEC_WRITE":              {"switch_core_codec.c", "switch_core_session_set_write_codec", 471},
	"CHANNEL_OUTGOING":         {"switch_core_session.c", "switch_core_session_outgoing_channel", 768},
	"CHANNEL_STATE":            {"switch_channel.c", "switch_channel_perform_set_running_state", 2409},
	"CHANNEL_CREATE":           {"switch_core_state_machine.c", "switch_core_session_run", 626},
	"CHANNEL_ORIGINATE":        {"switch_core_state_machine.c", "switch_core_session_run", 632},
	"CHANNEL_CALLSTATE":        {"switch_channel.c", "switch_channel_perform_set_callstate", 302},
	"CHANNEL_EXECUTE":          {"switch_core_session.c", "switch_core_session_exec", 2949},
	"CHANNEL_EXECUTE_COMPLETE": {"switch_core_session.c", "switch_core_session_exec", 2972},
	"CHANNEL_ANSWER":           {"switch_channel.c", "switch_channel_perform_mark_answered", 3848},
	"CHANNEL_PROGRESS_MEDIA":   {"switch_channel.c", "switch_channel_perform_mark_pre_answered", 3660},
	"PLAYBACK_START":           {"switch_ivr_play_say.c", "switch_ivr_play_file", 1649},
	"PLAYBACK_STOP":            {"switch_ivr_play_say.c", "switch_ivr_play_file", 2023},
	"CALL_UPDATE":              {"switch_channel.c", "switch_channel_flip_cid", 3279},
	"CHANNEL_PARK":             {"switch_ivr.c", "switch_ivr_park", 1002},
	"CHANNEL_UNPARK":           {"switch_ivr.c", "switch_ivr_park", 1213},
	"CHANNEL_HANGUP":           {"switch_channel.c", "switch_channel_perform_hangup", 3447},
	"CHANNEL_HANGUP_COMPLETE":  {"switch_core_state_machine.c", "switch_core_session_reporting_state", 943},
	"CHANNEL_DESTROY":          {"switch_core_session.c", "switch_core_session_perform_destroy", 1588},
	"CHANNEL_UUID":             {"switch_core_session.c", "switch_core_session_set_uuid", 2056},
	"PRIVATE_COMMAND":          {"switch_ivr.c", "switch_ivr_parse_next_event", 804},
	"CHANNEL_DATA":             {"mod_event_socket.c", "parse_command", 2029},
	"DTMF":                     {"switch_channel.c", "switch_channel_dequeue_dtmf", 523},
}

// withVariables are the event types that carry the channel variables
// (the others carry only the basic channel data and the caller profile).
var withVariables = map[string]bool{
	"CHANNEL_CREATE": true, "CHANNEL_ORIGINATE": true, "CHANNEL_UUID": true,
	"CHANNEL_ANSWER": true, "CHANNEL_PROGRESS": true, "CHANNEL_PROGRESS_MEDIA": true,
	"CHANNEL_HANGUP": true, "CHANNEL_HANGUP_COMPLETE": true, "CHANNEL_EXECUTE": true,
	"CHANNEL_EXECUTE_COMPLETE": true, "CHANNEL_DESTROY": true, "CHANNEL_PARK": true,
	"CHANNEL_UNPARK": true, "CHANNEL_BRIDGE": true, "CHANNEL_UNBRIDGE": true,
	"CHANNEL_DATA": true, "PLAYBACK_START": true, "PLAYBACK_STOP": true,
	"CALL_UPDATE": true, "DTMF": true, "RECORD_START": true, "RECORD_STOP": true,
}

var stateNumber = map[string]int{
	"CS_NEW": 0, "CS_INIT": 1, "CS_ROUTING": 2, "CS_SOFT_EXECUTE": 3, "CS_EXECUTE": 4,
	"CS_EXCHANGE_MEDIA": 5, "CS_PARK": 6, "CS_CONSUME_MEDIA": 7, "CS_HIBERNATE": 8,
	"CS_RESET": 9, "CS_HANGUP": 10, "CS_REPORTING": 11, "CS_DESTROY": 12, "CS_NONE": 13,
}

var callStateNumber = map[string]int{
	"DOWN": 0, "DIALING": 1, "RINGING": 2, "EARLY": 3, "ACTIVE": 4, "HELD": 5,
	"RING_WAIT": 6, "HANGUP": 7, "UNHELD": 8,
}

// q850 maps hangup causes to their Q.850 codes.
var q850 = map[string]int{
	"UNSPECIFIED": 0, "UNALLOCATED_NUMBER": 1, "NO_ROUTE_DESTINATION": 3,
	"NORMAL_CLEARING": 16, "USER_BUSY": 17, "NO_USER_RESPONSE": 18, "NO_ANSWER": 19,
	"SUBSCRIBER_ABSENT": 20, "CALL_REJECTED": 21, "DESTINATION_OUT_OF_ORDER": 27,
	"INVALID_NUMBER_FORMAT": 28, "NORMAL_UNSPECIFIED": 31, "NORMAL_TEMPORARY_FAILURE": 41,
	"CHAN_NOT_IMPLEMENTED": 66, "ORIGINATOR_CANCEL": 487, "MANAGER_REQUEST": 503,
	"SYSTEM_SHUTDOWN": 503, "LOSE_RACE": 502, "ALLOTTED_TIMEOUT": 602,
}

// chanVar is a channel variable, with the name of its header in channel events
// ("variable_" + name), made once when it is set.
type chanVar struct {
	name, value, header string
}

// callerProfile is the Caller-* header group. Empty string fields are not written.
type callerProfile struct {
	direction, logicalDirection, username, dialplan string
	cidName, cidNumber, origCidName, origCidNumber  string
	calleeName, calleeNumber, networkAddr, ani      string
	destination, uuid, source, context, rdnis, name string
	created                                         int64
	answered, progress, progressMedia, hangup       int64
}

// profileFields are the caller profile's headers in the order the server writes them; an
// empty value is left out (the times are always written).
var profileFields = [...]struct {
	name  string
	value func(p *callerProfile) string
}{
	{"Direction", func(p *callerProfile) string { return p.direction }},
	{"Logical-Direction", func(p *callerProfile) string { return p.logicalDirection }},
	{"Username", func(p *callerProfile) string { return p.username }},
	{"Dialplan", func(p *callerProfile) string { return p.dialplan }},
	{"Caller-ID-Name", func(p *callerProfile) string { return p.cidName }},
	{"Caller-ID-Number", func(p *callerProfile) string { return p.cidNumber }},
	{"Orig-Caller-ID-Name", func(p *callerProfile) string { return p.origCidName }},
	{"Orig-Caller-ID-Number", func(p *callerProfile) string { return p.origCidNumber }},
	{"Callee-ID-Name", func(p *callerProfile) string { return p.calleeName }},
	{"Callee-ID-Number", func(p *callerProfile) string { return p.calleeNumber }},
	{"Network-Addr", func(p *callerProfile) string { return p.networkAddr }},
	{"ANI", func(p *callerProfile) string { return p.ani }},
	{"Destination-Number", func(p *callerProfile) string { return p.destination }},
	{"Unique-ID", func(p *callerProfile) string { return p.uuid }},
	{"Source", func(p *callerProfile) string { return p.source }},
	{"Context", func(p *callerProfile) string { return p.context }},
	{"RDNIS", func(p *callerProfile) string { return p.rdnis }},
	{"Channel-Name", func(p *callerProfile) string { return p.name }},
	{"Profile-Index", func(*callerProfile) string { return "1" }},
	{"Profile-Created-Time", func(p *callerProfile) string { return strconv.FormatInt(p.created, 10) }},
	{"Channel-Created-Time", func(p *callerProfile) string { return strconv.FormatInt(p.created, 10) }},
	{"Channel-Answered-Time", func(p *callerProfile) string { return strconv.FormatInt(p.answered, 10) }},
	{"Channel-Progress-Time", func(p *callerProfile) string { return strconv.FormatInt(p.progress, 10) }},
	{"Channel-Progress-Media-Time", func(p *callerProfile) string { return strconv.FormatInt(p.progressMedia, 10) }},
	{"Channel-Hangup-Time", func(p *callerProfile) string { return strconv.FormatInt(p.hangup, 10) }},
	{"Channel-Transfer-Time", func(*callerProfile) string { return "0" }},
	{"Channel-Resurrect-Time", func(*callerProfile) string { return "0" }},
	{"Channel-Bridged-Time", func(*callerProfile) string { return "0" }},
	{"Channel-Last-Hold", func(*callerProfile) string { return "0" }},
	{"Channel-Hold-Accum", func(*callerProfile) string { return "0" }},
	{"Screen-Bit", func(*callerProfile) string { return "true" }},
	{"Privacy-Hide-Name", func(*callerProfile) string { return "false" }},
	{"Privacy-Hide-Number", func(*callerProfile) string { return "false" }},
}

// profileNames are the profile's header names under one prefix, made once: every channel
// event carries the profile.
type profileNames [len(profileFields)]string

func prefixedProfileNames(prefix string) *profileNames {
	var names profileNames
	for i, f := range profileFields {
		names[i] = prefix + f.name
	}
	return &names
}

// The prefixes the server writes the profile under: "Caller-" in channel data, "Channel-"
// in an outbound socket's connect reply.
var (
	callerProfileNames  = prefixedProfileNames("Caller-")
	channelProfileNames = prefixedProfileNames("Channel-")
)

func (p *callerProfile) appendHeaders(dst []Header, names *profileNames) []Header {
	for i, f := range profileFields {
		if v := f.value(p); v != "" {
			dst = append(dst, Header{names[i], v})
		}
	}
	return dst
}

// Channel is a fake FreeSWITCH session created by originate or DialOutbound.
// Its state changes happen on its call's goroutine; the methods are safe
// for concurrent use.
type Channel struct {
	s    *Server
	call *call
	leg  byte // 'a' or 'b' for the two loopback legs, 0 otherwise

	mu          sync.Mutex
	uuid        string
	name        string
	direction   string
	running     string // Channel-State
	stateNum    int    // Channel-State-Number
	callState   string
	answerState string
	hitDialplan bool
	hangupCause string
	readCodec   bool
	writeCodec  bool
	profile     *callerProfile
	vars        []chanVar
	sessionID   int
	created     time.Time
	answered    time.Time
	hungup      time.Time
	lastApp     string
	lastArg     string
	down        bool // hangup happened

	reported  chan struct{} // closed after CHANNEL_HANGUP_COMPLETE
	destroyed chan struct{} // closed after CHANNEL_DESTROY
	controls  []*conn       // listeners controlling this session
}

// UUID returns the channel's Unique-ID.
func (ch *Channel) UUID() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.uuid
}

// Name returns the channel name, e.g. "loopback/9664-a".
func (ch *Channel) Name() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.name
}

// Var returns a channel variable.
func (ch *Channel) Var(name string) string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for _, v := range ch.vars {
		if v.name == name {
			return v.value
		}
	}
	return ""
}

// Answered reports whether the channel was answered.
func (ch *Channel) Answered() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return !ch.answered.IsZero()
}

// Up reports whether the channel has not hung up yet.
func (ch *Channel) Up() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return !ch.down
}

// Done is closed once the channel was destroyed.
func (ch *Channel) Done() <-chan struct{} { return ch.destroyed }

// SendDTMF makes the channel receive these digits, one DTMF event each.
func (ch *Channel) SendDTMF(digits string) {
	ch.call.send(callMsg{kind: msgDTMF, ch: ch, text: digits})
}

// Hangup hangs the channel up with a cause (default NORMAL_CLEARING).
func (ch *Channel) Hangup(cause string) {
	if cause == "" {
		cause = "NORMAL_CLEARING"
	}
	ch.call.send(callMsg{kind: msgHangup, ch: ch, text: cause})
}

// setVar sets a variable; an existing one moves to the end, as the
// server's unique-header list does.
func (ch *Channel) setVar(name, value string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.unsetVarLocked(name)
	ch.vars = append(ch.vars, chanVar{name, value, "variable_" + name})
}

func (ch *Channel) unsetVar(name string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.unsetVarLocked(name)
}

func (ch *Channel) unsetVarLocked(name string) {
	for i, v := range ch.vars {
		if v.name == name {
			ch.vars = append(ch.vars[:i], ch.vars[i+1:]...)
			return
		}
	}
}

// basicData appends the channel data block (switch_channel_event_set_data).
func (ch *Channel) appendData(dst []Header, withProfile, withVars bool) []Header {
	// room for all of it at once: the 17 headers below at most, the profile, the variables
	dst = slices.Grow(dst, 17+len(profileFields)+len(ch.vars))
	dst = append(dst,
		Header{"Channel-State", ch.running},
		Header{"Channel-Call-State", ch.callState},
		Header{"Channel-State-Number", strconv.Itoa(ch.stateNum)},
		Header{"Channel-Name", ch.name},
		Header{"Unique-ID", ch.uuid},
		Header{"Call-Direction", ch.direction},
		Header{"Presence-Call-Direction", ch.direction},
		Header{"Channel-HIT-Dialplan", strconv.FormatBool(ch.hitDialplan)},
		Header{"Channel-Call-UUID", ch.uuid},
		Header{"Answer-State", ch.answerState},
	)
	if ch.hangupCause != "" {
		dst = append(dst, Header{"Hangup-Cause", ch.hangupCause})
	}
	if ch.readCodec {
		dst = append(dst,
			Header{"Channel-Read-Codec-Name", "L16"},
			Header{"Channel-Read-Codec-Rate", "8000"},
			Header{"Channel-Read-Codec-Bit-Rate", "128000"})
	}
	if ch.writeCodec {
		dst = append(dst,
			Header{"Channel-Write-Codec-Name", "L16"},
			Header{"Channel-Write-Codec-Rate", "8000"},
			Header{"Channel-Write-Codec-Bit-Rate", "128000"})
	}
	if withProfile && ch.profile != nil {
		dst = ch.profile.appendHeaders(dst, callerProfileNames)
	}
	if withVars {
		for _, v := range ch.vars {
			dst = append(dst, Header{v.header, v.value})
		}
	}
	return dst
}

// newChannelEvent builds a channel event: standard headers, the event's
// leading headers, the channel data, then its trailing headers.
func (ch *Channel) newChannelEvent(name, src string, pre, post []Header) *Event {
	typ, _ := eventTypeID(name)
	loc, ok := eventSource[src]
	if !ok {
		loc = eventSource[name]
	}
	e := ch.s.newStdEvent(typ, loc.file, loc.fn, loc.line)
	e.headers = append(e.headers, pre...)
	ch.mu.Lock()
	e.headers = ch.appendData(e.headers, true, withVariables[name])
	ch.mu.Unlock()
	e.headers = append(e.headers, post...)
	return e
}

// fire fires a channel event and hands it to the session's divert listeners.
func (ch *Channel) fire(name string, pre, post []Header) *Event {
	return ch.fireFrom(name, name, pre, post)
}

func (ch *Channel) fireFrom(name, src string, pre, post []Header) *Event {
	e := ch.newChannelEvent(name, src, pre, post)
	ch.s.fire(e)
	return e
}

// setRunning changes Channel-State and fires CHANNEL_STATE.
func (ch *Channel) setRunning(state string, num int) {
	ch.mu.Lock()
	prev, name := ch.running, ch.name
	ch.mu.Unlock()
	if prev != "CS_NONE" {
		ch.s.log(ch, 7, 0, "switch_core_state_machine.c", "switch_core_session_run", 616,
			"("+name+") State Change "+prev+" -> "+state)
	}
	ch.mu.Lock()
	ch.running = state
	ch.stateNum = num
	ch.mu.Unlock()
	ch.fire("CHANNEL_STATE", nil, nil)
	ch.call.logState(ch, state)
}

func (ch *Channel) setStateNum(num int) {
	ch.mu.Lock()
	ch.stateNum = num
	ch.mu.Unlock()
}

// setCallState changes Channel-Call-State and fires CHANNEL_CALLSTATE.
func (ch *Channel) setCallState(cs string) {
	ch.mu.Lock()
	orig := ch.callState
	ch.callState = cs
	name := ch.name
	if cs == "HANGUP" && ch.profile != nil {
		ch.profile.hangup = ch.hungup.UnixMicro()
	}
	ch.mu.Unlock()
	ch.s.log(ch, 7, 0, "switch_channel.c", "switch_channel_perform_set_callstate", 2400,
		"("+name+") Callstate Change "+orig+" -> "+cs)
	ch.fire("CHANNEL_CALLSTATE", []Header{
		{"Original-Channel-Call-State", orig},
		{"Channel-Call-State-Number", strconv.Itoa(callStateNumber[cs])},
	}, nil)
}

func (ch *Channel) varsSnapshot() []Header {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	vars := make([]Header, len(ch.vars))
	for i, v := range ch.vars {
		vars[i] = Header{v.name, v.value}
	}
	return vars
}

// channelData renders the connect reply of an outbound socket: the
// CHANNEL_DATA event with the caller profile repeated under "Channel-".
func (ch *Channel) channelData(async, full bool) []byte {
	typ, _ := eventTypeID("CHANNEL_DATA")
	loc := eventSource["CHANNEL_DATA"]
	e := ch.s.newStdEvent(typ, loc.file, loc.fn, loc.line)
	ch.mu.Lock()
	if ch.profile != nil {
		e.headers = ch.profile.appendHeaders(e.headers, channelProfileNames)
	}
	e.headers = ch.appendData(e.headers, true, true)
	ch.mu.Unlock()
	mode, control := "static", "single-channel"
	if async {
		mode = "async"
	}
	if full {
		control = "full"
	}
	e.headers = append(e.headers,
		Header{"Content-Type", "command/reply"},
		Header{"Reply-Text", "+OK\n"},
		Header{"Socket-Mode", mode},
		Header{"Control", control})
	e.headers = uniqueHeaders(e.headers)
	return encodePlain(e)
}

// uniqueHeaders keeps the last header of each name, at its last position.
func uniqueHeaders(hs []Header) []Header {
	last := map[string]int{}
	for i, h := range hs {
		last[strings.ToLower(h.Name)] = i
	}
	out := hs[:0:0]
	for i, h := range hs {
		if last[strings.ToLower(h.Name)] == i {
			out = append(out, h)
		}
	}
	return out
}

// cdrVars are the variables set when the channel reports its hangup.
func (ch *Channel) setCDRVars() {
	ch.mu.Lock()
	start, ans, end := ch.created, ch.answered, ch.hungup
	cause := ch.hangupCause
	lastApp, lastArg := ch.lastApp, ch.lastArg
	cid := "0000000000"
	if ch.profile != nil {
		cid = ch.profile.cidNumber
		if ch.profile.cidName != "" {
			cid = `"` + ch.profile.cidName + `" <` + ch.profile.cidNumber + ">"
		}
	}
	ch.mu.Unlock()
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04:05")
	}
	epoch := func(t time.Time) string {
		if t.IsZero() {
			return "0"
		}
		return strconv.FormatInt(t.Unix(), 10)
	}
	uepoch := func(t time.Time) string {
		if t.IsZero() {
			return "0"
		}
		return strconv.FormatInt(t.UnixMicro(), 10)
	}
	set := ch.setVar
	set("hangup_cause", cause)
	set("hangup_cause_q850", strconv.Itoa(q850[cause]))
	set("digits_dialed", "none")
	set("start_stamp", stamp(start))
	set("profile_start_stamp", stamp(start))
	if !ans.IsZero() {
		set("answer_stamp", stamp(ans))
	}
	set("end_stamp", stamp(end))
	set("start_epoch", epoch(start))
	set("start_uepoch", uepoch(start))
	set("profile_start_epoch", epoch(start))
	set("profile_start_uepoch", uepoch(start))
	set("answer_epoch", epoch(ans))
	set("answer_uepoch", uepoch(ans))
	for _, n := range []string{"bridge", "last_hold"} {
		set(n+"_epoch", "0")
		set(n+"_uepoch", "0")
	}
	set("hold_accum_seconds", "0")
	set("hold_accum_usec", "0")
	set("hold_accum_ms", "0")
	for _, n := range []string{"resurrect", "progress", "progress_media"} {
		set(n+"_epoch", "0")
		set(n+"_uepoch", "0")
	}
	set("end_epoch", epoch(end))
	set("end_uepoch", uepoch(end))
	set("last_app", lastApp)
	if lastArg != "" {
		set("last_arg", lastArg)
	}
	set("caller_id", cid)
	dur := end.Sub(start)
	var bill, answerWait time.Duration
	if !ans.IsZero() {
		bill = end.Sub(ans)
		answerWait = ans.Sub(start)
	}
	for _, unit := range []struct {
		suffix string
		div    time.Duration
		dur    string
	}{{"sec", time.Second, "duration"}, {"msec", time.Millisecond, "mduration"}, {"usec", time.Microsecond, "uduration"}} {
		f := func(d time.Duration) string { return strconv.FormatInt(int64(d/unit.div), 10) }
		set(unit.dur, f(dur))
		set("bill"+unit.suffix, f(bill))
		set("progress"+unit.suffix, "0")
		set("answer"+unit.suffix, f(answerWait))
		set("wait"+unit.suffix, "0")
		set("progress_media"+unit.suffix, "0")
		set("flow_bill"+unit.suffix, f(dur))
	}
}
