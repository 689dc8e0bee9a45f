package esltest

import (
	"strings"
	"time"
)

// dialplanFor returns the applications of an extension in the fake's
// dialplan. The extensions of the recorded FreeSWITCH test setup are known;
// any other extension answers and parks, which is what tests of dialers and
// IVRs usually want.
func dialplanFor(s *Server, exten string) []appSpec {
	s.mu.Lock()
	custom, ok := s.dialplan[exten]
	s.mu.Unlock()
	if ok {
		return append([]appSpec(nil), custom...)
	}
	switch exten {
	case "9664":
		return []appSpec{{"answer", ""}, {"playback", "tone_stream://%(1000,0,440);loops=3"}, {"hangup", ""}}
	case "9665":
		return []appSpec{{"answer", ""}, {"sleep", "2000"}, {"hangup", ""}}
	case "9196":
		return []appSpec{{"answer", ""}, {"echo", ""}}
	case "9486":
		return []appSpec{{"hangup", "USER_BUSY"}}
	}
	return []appSpec{{"answer", ""}, {"park", ""}}
}

// HandleExtension sets the applications an extension runs in the fake
// dialplan, each given as "app" or "app arg", e.g. "answer",
// "playback /tmp/hello.wav", "socket 127.0.0.1:8084 async full".
func (s *Server) HandleExtension(exten string, apps ...string) {
	specs := make([]appSpec, 0, len(apps))
	for _, a := range apps {
		name, arg, _ := strings.Cut(a, " ")
		specs = append(specs, appSpec{name, arg})
	}
	s.mu.Lock()
	if s.dialplan == nil {
		s.dialplan = map[string][]appSpec{}
	}
	s.dialplan[exten] = specs
	s.mu.Unlock()
}

// originateArgs is a parsed `originate` argument string.
type originateArgs struct {
	vars     []Header
	endpoint string
	app      appSpec
	exten    string
}

// parseOriginate parses `[{vars}]endpoint &app(args)|exten ...`.
func parseOriginate(args string) (*originateArgs, bool) {
	args = strings.TrimSpace(args)
	o := &originateArgs{}
	if strings.HasPrefix(args, "{") {
		end := strings.IndexByte(args, '}')
		if end < 0 {
			return nil, false
		}
		for _, kv := range strings.Split(args[1:end], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				o.vars = append(o.vars, Header{strings.TrimSpace(k), v})
			}
		}
		args = args[end+1:]
	}
	endpoint, rest, _ := strings.Cut(args, " ")
	rest = strings.TrimSpace(rest)
	if endpoint == "" || rest == "" {
		return nil, false
	}
	o.endpoint = endpoint
	if strings.HasPrefix(rest, "&") {
		app := rest[1:]
		if i := strings.IndexByte(app, '('); i >= 0 {
			arg := app[i+1:]
			if j := strings.LastIndexByte(arg, ')'); j >= 0 {
				arg = arg[:j]
			}
			o.app = appSpec{app[:i], arg}
		} else {
			name, arg, _ := strings.Cut(app, " ")
			o.app = appSpec{name, strings.TrimSpace(arg)}
		}
	} else {
		o.exten, _, _ = strings.Cut(rest, " ")
	}
	return o, true
}

func (o *originateArgs) variable(name string) string {
	for _, v := range o.vars {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

const originateUsage = "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"

// originate runs the originate api: it starts a call and waits until the
// A-leg is answered or fails. The returned ack must be closed by the caller
// once it fired its own events.
func (s *Server) originate(args string) (string, chan struct{}) {
	o, ok := parseOriginate(args)
	if !ok {
		return originateUsage, nil
	}
	tech, rest, _ := strings.Cut(o.endpoint, "/")
	switch strings.ToLower(tech) {
	case "error":
		return "-ERR " + strings.ToUpper(rest) + "\n", nil
	case "loopback", "sofia", "user", "verto", "null", "freetdm", "rtc", "skinny", "portaudio":
	default:
		return "-ERR CHAN_NOT_IMPLEMENTED\n", nil
	}
	k := &call{
		s:      s,
		runs:   map[*Channel]*legRun{},
		inbox:  make(chan callMsg, 64),
		done:   make(chan struct{}),
		result: make(chan originateResult, 1),
		aApp:   o.app,
		aExten: o.exten,
	}
	if !s.goRun(func() { k.start(o); k.loop() }) {
		return "-ERR SYSTEM_SHUTDOWN\n", nil
	}
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	select {
	case r := <-k.result:
		return r.body, r.ack
	case <-timeout.C:
		for _, ch := range k.legs0() {
			ch.Hangup("NO_ANSWER")
		}
		return "-ERR NO_ANSWER\n", nil
	case <-s.ctx.Done():
		return "-ERR SYSTEM_SHUTDOWN\n", nil
	}
}

// legs0 returns the first leg without racing the call goroutine.
func (k *call) legs0() []*Channel {
	var out []*Channel
	for _, c := range k.s.Channels() {
		if c.call == k {
			out = append(out, c)
		}
	}
	return out
}

// start creates the channels of an originate and runs them until the
// call is set up (or failed), in FreeSWITCH's event order.
func (k *call) start(o *originateArgs) {
	tech, rest, _ := strings.Cut(o.endpoint, "/")
	if strings.EqualFold(tech, "loopback") {
		exten, ctx, _ := strings.Cut(rest, "/")
		if ctx == "" {
			ctx = "default"
		}
		k.startLoopback(exten, ctx, o, nil)
		return
	}
	k.startSingle(o)
}

func (s *Server) newProfile(ch *Channel, direction, dest, ctx, source string) *callerProfile {
	return &callerProfile{
		direction: direction, logicalDirection: direction, dialplan: "xml",
		cidNumber: "0000000000", origCidNumber: "0000000000",
		calleeName: "Outbound Call", calleeNumber: "default", ani: "0000000000",
		destination: dest, uuid: ch.uuid, source: source, context: ctx, name: ch.name,
		created: ch.created.UnixMicro(),
	}
}

// startLoopback sets up the two legs of `originate loopback/EXT/CTX`. bApps,
// when set, replaces the B-leg's dialplan (DialOutbound uses it).
func (k *call) startLoopback(exten, ctx string, o *originateArgs, bApps []appSpec) {
	k.loopback = true
	s := k.s
	a := k.newChannel("loopback/"+exten+"/"+ctx+"-a", "outbound", 'a')
	s.log(nil, 7, 3, "switch_ivr_originate.c", "switch_ivr_originate", 2301, "Parsing global variables")
	s.log(a, 5, 3, "switch_channel.c", "switch_channel_set_name", 1143, "New Channel "+a.name+" ["+a.uuid+"]")
	k.codecs(a)
	cidName, cidNum := "", "0000000000"
	if o != nil {
		cidName = o.variable("origination_caller_id_name")
		if v := o.variable("origination_caller_id_number"); v != "" {
			cidNum = v
		}
	}
	setProfile := func(ch *Channel, direction string) {
		ch.mu.Lock()
		p := s.newProfile(ch, direction, exten, ctx, "mod_loopback")
		p.cidName, p.cidNumber, p.origCidNumber, p.ani = cidName, cidNum, cidNum, cidNum
		ch.profile = p
		ch.mu.Unlock()
	}
	aName := "loopback/" + exten + "-a"
	s.log(a, 5, 3, "switch_channel.c", "switch_channel_set_name", 1141, "Rename Channel "+a.name+"->"+aName+" ["+a.uuid+"]")
	a.mu.Lock()
	a.name = aName
	a.stateNum = 1
	a.mu.Unlock()
	originationUUID := ""
	if o != nil {
		originationUUID = o.variable("origination_uuid")
	}
	var b *Channel
	bUUID := newUUID()
	if originationUUID != "" {
		old := a.uuid
		a.mu.Lock()
		a.uuid = originationUUID
		a.mu.Unlock()
		setProfile(a, "outbound")
		for _, v := range []Header{{"direction", "outbound"}, {"is_outbound", "true"}, {"session_id", itoa(a.sessionID)},
			{"read_codec", "L16"}, {"read_rate", "8000"}, {"write_codec", "L16"}, {"write_rate", "8000"},
			{"channel_name", aName}, {"uuid", originationUUID}, {"call_uuid", originationUUID}} {
			a.setVar(v.Name, v.Value)
		}
		a.fire("CHANNEL_UUID", []Header{{"Old-Unique-ID", old}}, nil)
	} else {
		setProfile(a, "outbound")
	}
	a.fire("CHANNEL_OUTGOING", nil, nil)
	s.log(a, 7, 0, "mod_loopback.c", "channel_outgoing_channel", 1262, "("+aName+") State Change CS_NEW -> CS_INIT")
	a.setRunning("CS_INIT", 1)
	b = k.newChannel("loopback/"+exten+"-b", "inbound", 'b')
	b.mu.Lock()
	b.uuid = bUUID
	b.mu.Unlock()
	s.log(b, 5, 3, "switch_channel.c", "switch_channel_set_name", 1143, "New Channel "+b.name+" ["+b.uuid+"]")
	k.codecs(b)
	s.log(b, 7, 0, "mod_loopback.c", "channel_on_init", 288, "("+b.name+") State Change CS_NEW -> CS_INIT")
	s.log(b, 7, 3, "mod_loopback.c", "channel_on_init", 356, "setting other_loopback_from_uuid on b leg to (null)")
	if originationUUID == "" {
		for _, v := range []Header{{"direction", "outbound"}, {"is_outbound", "true"}, {"uuid", a.uuid}, {"call_uuid", a.uuid},
			{"session_id", itoa(a.sessionID)}, {"read_codec", "L16"}, {"read_rate", "8000"}, {"write_codec", "L16"},
			{"write_rate", "8000"}, {"channel_name", aName}} {
			a.setVar(v.Name, v.Value)
		}
	}
	if o != nil {
		for _, v := range o.vars {
			a.setVar(v.Name, v.Value)
		}
	}
	a.setVar("originate_early_media", "true")
	a.setVar("originate_endpoint", "loopback")
	a.setVar("other_loopback_leg_uuid", b.uuid)
	a.setVar("loopback_leg", "A")
	a.setStateNum(2)
	a.fire("CHANNEL_CREATE", nil, nil)
	a.fire("CHANNEL_ORIGINATE", nil, nil)
	a.setRunning("CS_ROUTING", 2)
	a.setRunning("CS_CONSUME_MEDIA", 7)

	setProfile(b, "inbound")
	b.setRunning("CS_INIT", 1)
	for _, v := range []Header{{"direction", "inbound"}, {"uuid", b.uuid}, {"call_uuid", b.uuid},
		{"session_id", itoa(b.sessionID)}, {"channel_name", b.name}, {"read_codec", "L16"}, {"read_rate", "8000"},
		{"write_codec", "L16"}, {"write_rate", "8000"}} {
		b.setVar(v.Name, v.Value)
	}
	if originationUUID != "" {
		b.setVar("origination_uuid", originationUUID)
	}
	b.setVar("other_loopback_leg_uuid", a.uuid)
	b.setVar("loopback_leg", "B")
	b.setStateNum(2)
	b.fire("CHANNEL_CREATE", nil, nil)
	b.mu.Lock()
	b.running = "CS_ROUTING"
	b.mu.Unlock()
	b.setCallState("RINGING")
	b.fire("CHANNEL_STATE", nil, nil)
	if bApps == nil {
		bApps = dialplanFor(s, exten)
		s.logDialplan(b, exten, bApps)
	}
	k.run(b).plan = bApps
	k.enterExecute(b)
	k.advance(b)
}

// startSingle sets up a one-leg call to a non-loopback endpoint, which
// answers at once.
func (k *call) startSingle(o *originateArgs) {
	s := k.s
	a := k.newChannel(o.endpoint, "outbound", 0)
	s.log(a, 5, 3, "switch_channel.c", "switch_channel_set_name", 1143, "New Channel "+a.name+" ["+a.uuid+"]")
	k.codecs(a)
	if u := o.variable("origination_uuid"); u != "" {
		a.mu.Lock()
		a.uuid = u
		a.mu.Unlock()
	}
	_, dest, _ := strings.Cut(o.endpoint, "/")
	if i := strings.LastIndexByte(dest, '/'); i >= 0 {
		dest = dest[i+1:]
	}
	a.mu.Lock()
	p := s.newProfile(a, "outbound", dest, "default", "src/switch_ivr_originate.c")
	if v := o.variable("origination_caller_id_number"); v != "" {
		p.cidNumber, p.origCidNumber, p.ani = v, v, v
	}
	p.cidName = o.variable("origination_caller_id_name")
	a.profile = p
	a.stateNum = 1
	a.mu.Unlock()
	a.fire("CHANNEL_OUTGOING", nil, nil)
	a.setRunning("CS_INIT", 1)
	for _, v := range []Header{{"direction", "outbound"}, {"is_outbound", "true"}, {"uuid", a.UUID()}, {"call_uuid", a.UUID()},
		{"session_id", itoa(a.sessionID)}, {"read_codec", "L16"}, {"read_rate", "8000"}, {"write_codec", "L16"},
		{"write_rate", "8000"}, {"channel_name", a.name}} {
		a.setVar(v.Name, v.Value)
	}
	for _, v := range o.vars {
		a.setVar(v.Name, v.Value)
	}
	a.setStateNum(2)
	a.fire("CHANNEL_CREATE", nil, nil)
	a.fire("CHANNEL_ORIGINATE", nil, nil)
	a.setRunning("CS_ROUTING", 2)
	a.setRunning("CS_CONSUME_MEDIA", 7)
	k.markAnswered(a)
	k.originated()
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = digits[n%10]
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
