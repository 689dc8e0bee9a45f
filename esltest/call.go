package esltest

import (
	"strconv"
	"strings"
	"time"
)

type msgKind int

const (
	msgSendmsg msgKind = iota
	msgHangup
	msgDTMF
	msgSocketDone
	msgEvent
)

// callMsg is a request handed to a call's goroutine, which owns every state
// change of its channels so that their events come out in one order.
type callMsg struct {
	kind msgKind
	ch   *Channel
	text string
	msg  *sendMsg
	ev   *Event
}

// sendMsg is a parsed `sendmsg` block.
type sendMsg struct {
	line      string
	headers   []Header
	body      string
	command   string
	app, arg  string
	loops     int
	lock      bool
	eventUUID string
	cause     string
	done      chan struct{} // closed when the message was processed
}

func (m *sendMsg) finish() {
	if m != nil && m.done != nil {
		select {
		case <-m.done:
		default:
			close(m.done)
		}
	}
}

// appRun is an application running on a channel. Apps nest: a message
// executed while a channel is parked runs on top of park.
type appRun struct {
	name, arg string
	uuid      string
	deadline  time.Time // zero: runs until hangup or until stopped
	endless   bool
	msg       *sendMsg
	loop      int
	parked    bool
	playback  bool
	duration  time.Duration
	waitPark  bool // async socket app not parked yet: messages wait
}

// legRun is the call goroutine's private state of one channel.
type legRun struct {
	stack     []*appRun
	held      []*sendMsg
	plan      []appSpec
	executing bool
	reported  bool
	destroyed bool
	holds     int // outbound sockets that keep the session from being destroyed
}

type appSpec struct{ name, arg string }

// originateResult is what `originate` returns; ack lets the call go on only
// after the originator fired its API / BACKGROUND_JOB events, so that the
// order of events is always the one FreeSWITCH shows.
type originateResult struct {
	body string
	ack  chan struct{}
}

// call owns one or two channels (a loopback pair) and their timeline.
type call struct {
	s         *Server
	legs      []*Channel
	runs      map[*Channel]*legRun
	inbox     chan callMsg
	done      chan struct{}
	result    chan originateResult
	resulted  bool
	aApp      appSpec // what the A-leg runs once answered
	aExten    string  // or the extension it is transferred to
	loopback  bool
	pending   *pendingSocket // connection DialOutbound opened for the socket app
	pressDTMF string         // digits the caller presses once the B-leg answered
}

func (k *call) send(m callMsg) bool {
	select {
	case k.inbox <- m:
		return true
	case <-k.done:
		if m.msg != nil {
			m.msg.finish()
		}
		return false
	}
}

func (k *call) peer(ch *Channel) *Channel {
	if len(k.legs) != 2 {
		return nil
	}
	if k.legs[0] == ch {
		return k.legs[1]
	}
	return k.legs[0]
}

func (k *call) run(ch *Channel) *legRun { return k.runs[ch] }

// newChannel creates a channel in state CS_NEW and registers it.
func (k *call) newChannel(name, direction string, leg byte) *Channel {
	s := k.s
	s.mu.Lock()
	s.sessionID++
	id := s.sessionID
	s.mu.Unlock()
	ch := &Channel{
		s:           s,
		call:        k,
		leg:         leg,
		uuid:        newUUID(),
		name:        name,
		direction:   direction,
		running:     "CS_NONE",
		callState:   "DOWN",
		answerState: "ringing",
		hitDialplan: direction == "inbound",
		sessionID:   id,
		created:     time.Now(),
		reported:    make(chan struct{}),
		destroyed:   make(chan struct{}),
	}
	k.legs = append(k.legs, ch)
	k.runs[ch] = &legRun{}
	s.addChannel(ch)
	return ch
}

func (s *Server) addChannel(ch *Channel) {
	s.mu.Lock()
	s.channels = append(s.channels, ch)
	s.mu.Unlock()
	live := s.stats.live.Add(1)
	s.stats.sessionsTotal.Add(1)
	for {
		peak := s.stats.sessionsPeak.Load()
		if live <= peak || s.stats.sessionsPeak.CompareAndSwap(peak, live) {
			break
		}
	}
}

func (s *Server) removeChannel(ch *Channel) {
	s.mu.Lock()
	for i, c := range s.channels {
		if c == ch {
			s.channels = append(s.channels[:i], s.channels[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	s.stats.live.Add(-1)
}

// Channels returns the live fake channels, oldest first.
func (s *Server) Channels() []*Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Channel(nil), s.channels...)
}

// Channel returns the live channel with that uuid, or nil.
func (s *Server) Channel(uuid string) *Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channels {
		c.mu.Lock()
		match := c.uuid == uuid
		c.mu.Unlock()
		if match {
			return c
		}
	}
	return nil
}

// codecs gives the channel its codecs, firing the two CODEC events.
func (k *call) codecs(ch *Channel) {
	k.s.log(ch, 7, 3, "mod_loopback.c", "tech_init", 166, ch.Name()+" setup codec L16/8000/20")
	ch.mu.Lock()
	ch.readCodec = true
	ch.mu.Unlock()
	ch.fireFrom("CODEC", "CODEC_READ", nil, []Header{
		{"channel-read-codec-name", "L16"}, {"channel-read-codec-rate", "8000"}, {"channel-read-codec-bit-rate", "128000"}})
	ch.mu.Lock()
	ch.writeCodec = true
	ch.mu.Unlock()
	ch.fireFrom("CODEC", "CODEC_WRITE", nil, []Header{
		{"Channel-Write-Codec-Name", "L16"}, {"Channel-Write-Codec-Rate", "8000"}, {"Channel-Write-codec-bit-rate", "128000"}})
}

func (k *call) loop() {
	defer func() {
		for _, ch := range k.legs {
			if !k.runs[ch].destroyed {
				k.s.removeChannel(ch)
				close(ch.destroyed)
			}
			ch.mu.Lock()
			if !ch.down {
				ch.down = true
			}
			ch.mu.Unlock()
			select {
			case <-ch.reported:
			default:
				close(ch.reported)
			}
		}
		close(k.done)
		k.fail("-ERR SYSTEM_SHUTDOWN\n")
	}()
	var timer *time.Timer
	for !k.finished() {
		var timerC <-chan time.Time
		if d, ok := k.nextDeadline(); ok {
			if timer == nil {
				timer = time.NewTimer(time.Until(d))
			} else {
				timer.Reset(time.Until(d))
			}
			timerC = timer.C
		}
		select {
		case m := <-k.inbox:
			k.handle(m)
		case <-timerC:
			k.expire(time.Now())
		case <-k.s.ctx.Done():
			k.shutdown()
			return
		}
		if timer != nil && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (k *call) finished() bool {
	for _, ch := range k.legs {
		if !k.runs[ch].destroyed {
			return false
		}
	}
	return true
}

func (k *call) nextDeadline() (time.Time, bool) {
	var best time.Time
	for _, ch := range k.legs {
		r := k.runs[ch]
		if len(r.stack) == 0 {
			continue
		}
		top := r.stack[len(r.stack)-1]
		if top.endless || top.deadline.IsZero() {
			continue
		}
		if best.IsZero() || top.deadline.Before(best) {
			best = top.deadline
		}
	}
	return best, !best.IsZero()
}

func (k *call) expire(now time.Time) {
	for _, ch := range k.legs {
		r := k.runs[ch]
		if len(r.stack) == 0 || ch.isDown() {
			continue
		}
		top := r.stack[len(r.stack)-1]
		if !top.endless && !top.deadline.IsZero() && !now.Before(top.deadline) {
			k.completeTop(ch, false)
			k.advance(ch)
		}
	}
}

func (ch *Channel) isDown() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.down
}

func (k *call) shutdown() {
	for _, ch := range k.legs {
		if !ch.isDown() {
			k.hangup(ch, "SYSTEM_SHUTDOWN", nil)
		}
	}
}

func (k *call) handle(m callMsg) {
	switch m.kind {
	case msgHangup:
		if !m.ch.isDown() {
			k.hangup(m.ch, m.text, nil)
		}
	case msgDTMF:
		k.dtmf(m.ch, m.text)
	case msgSendmsg:
		k.sendmsg(m.ch, m.msg)
	case msgSocketDone:
		r := k.run(m.ch)
		if r.holds > 0 {
			r.holds--
		}
		if !m.ch.isDown() {
			// The application closed its socket: the socket app ends and,
			// as without `resume`, the channel hangs up.
			k.completeSocket(m.ch)
		}
		k.maybeDestroy()
	case msgEvent:
		// An event queued to the session (sendevent with its Unique-ID)
		// reaches the listeners that divert this session's events.
		for _, c := range m.ch.controlConns() {
			c.offerDiverted(m.ev)
		}
	}
}

func (k *call) completeSocket(ch *Channel) {
	r := k.run(ch)
	for i := len(r.stack) - 1; i >= 0; i-- {
		if r.stack[i].name == "socket" {
			if ch.Var("socket_resume") == "true" {
				for len(r.stack) > i {
					k.completeTop(ch, true)
				}
				k.advance(ch)
				return
			}
			k.hangup(ch, "NORMAL_CLEARING", nil)
			return
		}
	}
}

func (ch *Channel) controlConns() []*conn {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return append([]*conn(nil), ch.controls...)
}

// dtmf makes the channel receive digits: one DTMF event per digit.
func (k *call) dtmf(ch *Channel, digits string) {
	if ch.isDown() {
		return
	}
	for _, d := range digits {
		k.s.log(ch, 7, 0, "switch_rtp.c", "switch_rtp_read", 7312, "RTP RECV DTMF "+string(d)+":2000")
		ch.fire("DTMF", nil, []Header{{"DTMF-Digit", string(d)}, {"DTMF-Duration", "2000"}, {"DTMF-Source", "RTP"}})
	}
}

// sendmsg handles a message queued to the channel (spec 14.12).
func (k *call) sendmsg(ch *Channel, m *sendMsg) {
	if ch.isDown() {
		m.finish()
		return
	}
	if strings.EqualFold(m.command, "socket-park") {
		k.socketPark(ch)
		return
	}
	if r := k.run(ch); k.locked(r) {
		// The session works through its message queue in order: a message
		// waits behind an event-locked one, or until an async socket parks.
		r.held = append(r.held, m)
		return
	}
	k.startMsg(ch, m)
}

func (k *call) startMsg(ch *Channel, m *sendMsg) {
	switch strings.ToLower(m.command) {
	case "hangup":
		cause := m.cause
		if cause == "" {
			cause = "NORMAL_CLEARING"
		}
		k.hangup(ch, cause, m)
	case "execute":
		k.startMsgApp(ch, m, 1)
	default:
		// unicast, nomedia, xferext...: accepted; nothing to simulate.
		k.privateCommand(ch, m)
		m.finish()
	}
}

// locked reports whether queued messages must wait: an event-locked
// message is running, or an async socket app has not parked yet.
func (k *call) locked(r *legRun) bool {
	for _, a := range r.stack {
		if a.msg != nil && a.msg.lock || a.waitPark {
			return true
		}
	}
	return false
}

// socketPark is the async socket app entering its park loop after connect.
func (k *call) socketPark(ch *Channel) {
	r := k.run(ch)
	for _, a := range r.stack {
		if a.name == "socket" && a.waitPark {
			a.waitPark = false
			a.parked = true
			ch.fire("CHANNEL_PARK", nil, nil)
			break
		}
	}
	k.advance(ch)
}

func (k *call) startMsgApp(ch *Channel, m *sendMsg, loop int) {
	total := m.loops
	ch.setVar("current_loop", strconv.Itoa(loop))
	ch.setVar("total_loops", strconv.Itoa(total))
	uuid := m.eventUUID
	if uuid == "" {
		uuid = newUUID()
	}
	k.exec(ch, m.app, m.arg, uuid, m, loop)
}

func (k *call) privateCommand(ch *Channel, m *sendMsg) {
	hs := append([]Header{{"Command", m.line}}, m.headers...)
	loc := eventSource["PRIVATE_COMMAND"]
	typ, _ := eventTypeID("PRIVATE_COMMAND")
	e := newEvent(typ)
	e.headers = append(e.headers, hs...)
	k.s.stdHeaders(e, loc.file, loc.fn, loc.line, time.Now())
	ch.mu.Lock()
	e.headers = ch.appendData(e.headers, true, false)
	ch.mu.Unlock()
	if m.body != "" {
		e.setBody(m.body)
	}
	k.s.fire(e)
}

// exec starts an application: variables, CHANNEL_EXECUTE, then the app's
// own behaviour. Instant apps complete before exec returns.
func (k *call) exec(ch *Channel, name, arg, uuid string, m *sendMsg, loop int) {
	r := k.run(ch)
	ch.unsetVar("current_application_response")
	ch.setVar("current_application", name)
	if arg != "" {
		ch.setVar("current_application_data", arg)
	} else {
		ch.unsetVar("current_application_data")
	}
	ch.mu.Lock()
	ch.lastApp, ch.lastArg = name, arg
	chName := ch.name
	ch.mu.Unlock()
	k.s.log(ch, 6, 1, "switch_core_session.c", "switch_core_session_exec", 2907,
		"EXECUTE [depth="+strconv.Itoa(len(r.stack))+"] "+chName+" "+name+"("+arg+")")
	ch.fire("CHANNEL_EXECUTE", nil, appHeaders(name, arg, "", uuid, false))
	ch.setVar("current_application", name)
	a := &appRun{name: name, arg: arg, uuid: uuid, msg: m, loop: loop}
	r.stack = append(r.stack, a)
	switch strings.ToLower(name) {
	case "answer":
		k.answer(ch)
	case "pre_answer":
		k.preAnswer(ch)
	case "playback", "playback_terminators", "play_file":
		a.playback = true
		a.duration = k.playDuration(arg)
		a.deadline = time.Now().Add(a.duration)
		ch.setVar("current_application", name)
		ch.fire("PLAYBACK_START", nil, []Header{{"Playback-File-Type", fileType(arg)}, {"Playback-File-Path", arg}})
		return
	case "sleep", "msleep":
		ms, _ := strconv.Atoi(strings.TrimSpace(arg))
		a.deadline = time.Now().Add(time.Duration(ms) * time.Millisecond)
		return
	case "park":
		a.endless = true
		a.parked = true
		ch.fire("CHANNEL_PARK", nil, nil)
		return
	case "echo", "endless_playback":
		a.endless = true
		return
	case "socket":
		a.endless = true
		k.startSocketApp(ch, a)
		return
	case "hangup":
		cause := strings.TrimSpace(arg)
		if cause == "" {
			cause = "NORMAL_CLEARING"
		}
		k.hangup(ch, cause, nil)
		return
	case "set", "export":
		if i := strings.IndexByte(arg, '='); i > 0 {
			ch.setVar(arg[:i], arg[i+1:])
		}
	case "unset":
		ch.unsetVar(strings.TrimSpace(arg))
	case "log":
		level, text := "DEBUG", arg
		if i := strings.IndexByte(arg, ' '); i > 0 {
			if _, ok := logLevels[strings.ToUpper(arg[:i])]; ok {
				level, text = strings.ToUpper(arg[:i]), arg[i+1:]
			}
		}
		k.s.log(ch, logLevels[level], 0, "mod_dptools.c", "log_function", 1725, text)
	case "transfer":
		f := strings.Fields(arg)
		if len(f) > 0 {
			r.plan = dialplanFor(k.s, f[0])
			ch.mu.Lock()
			if ch.profile != nil {
				ch.profile.destination = f[0]
			}
			ch.mu.Unlock()
		}
	}
	k.completeTop(ch, false)
}

func appHeaders(name, arg, response, uuid string, complete bool) []Header {
	hs := []Header{{"Application", name}}
	if arg != "" {
		hs = append(hs, Header{"Application-Data", arg})
	}
	if complete {
		hs = append(hs, Header{"Application-Response", response})
	}
	return append(hs, Header{"Application-UUID", uuid})
}

// completeTop ends the top app. interrupted is set when a hangup cuts it.
func (k *call) completeTop(ch *Channel, interrupted bool) {
	r := k.run(ch)
	if len(r.stack) == 0 {
		return
	}
	a := r.stack[len(r.stack)-1]
	if a.playback {
		played := a.duration
		status := "done"
		if interrupted {
			status = "break"
			played = 0
		}
		samples := strconv.FormatInt(played.Milliseconds()*8, 10)
		ch.setVar("playback_last_offset_pos", samples)
		ch.setVar("playback_seconds", strconv.FormatInt(int64(played/time.Second), 10))
		ch.setVar("playback_ms", strconv.FormatInt(played.Milliseconds(), 10))
		ch.setVar("playback_samples", samples)
		ch.fire("PLAYBACK_STOP", nil, []Header{{"Playback-File-Type", fileType(a.arg)}, {"Playback-File-Path", a.arg}, {"Playback-Status", status}})
		if !interrupted {
			ch.setVar("current_application_response", "FILE PLAYED")
		}
	}
	if a.parked {
		ch.fire("CHANNEL_UNPARK", nil, nil)
	}
	resp := ch.Var("current_application_response")
	if resp == "" {
		resp = "_none_"
	}
	ch.fire("CHANNEL_EXECUTE_COMPLETE", nil, appHeaders(a.name, a.arg, resp, a.uuid, true))
	r.stack = r.stack[:len(r.stack)-1]
	if a.msg != nil {
		if !interrupted && a.msg.loops != a.loop && !ch.isDown() {
			k.startMsgApp(ch, a.msg, a.loop+1)
			return
		}
		ch.unsetVar("current_loop")
		ch.unsetVar("total_loops")
		k.privateCommand(ch, a.msg)
		a.msg.finish()
	}
}

// advance runs what comes next on a channel whose apps may have finished:
// held messages, then the rest of the dialplan, then hangup.
func (k *call) advance(ch *Channel) {
	r := k.run(ch)
	for !ch.isDown() {
		if len(r.held) > 0 && !k.locked(r) {
			m := r.held[0]
			r.held = r.held[1:]
			k.startMsg(ch, m)
			continue
		}
		if len(r.stack) > 0 {
			return
		}
		if len(r.plan) > 0 {
			next := r.plan[0]
			r.plan = r.plan[1:]
			k.exec(ch, next.name, next.arg, newUUID(), nil, 0)
			continue
		}
		if !r.executing {
			return
		}
		k.hangup(ch, "NORMAL_CLEARING", nil)
		return
	}
}

// answer marks a channel answered; a loopback B-leg answers its A-leg first.
func (k *call) answer(ch *Channel) {
	if ch.Answered() {
		return
	}
	if k.loopback && ch.leg == 'b' {
		if a := k.peer(ch); a != nil && !a.Answered() && !a.isDown() {
			k.markAnswered(a)
		}
	}
	k.markAnswered(ch)
	ch.setVar("endpoint_disposition", "ANSWER")
	if digits := k.pressDTMF; digits != "" && ch.leg == 'b' {
		k.pressDTMF = ""
		k.s.goRun(func() {
			t := time.NewTimer(200 * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
				ch.SendDTMF(digits)
			case <-k.done:
			}
		})
	}
	if k.loopback && ch.leg == 'b' {
		k.originated()
	}
}

func (k *call) markAnswered(ch *Channel) {
	now := time.Now()
	ch.mu.Lock()
	ch.answered = now
	ch.answerState = "answered"
	if ch.profile != nil {
		ch.profile.answered = now.UnixMicro()
	}
	name := ch.name
	ch.mu.Unlock()
	if ch.leg == 'a' {
		k.s.log(ch, 5, 0, "mod_loopback.c", "channel_receive_message", 1021, "Channel ["+name+"] has been answered")
	}
	ch.fire("CHANNEL_ANSWER", nil, nil)
	ch.setCallState("ACTIVE")
}

func (k *call) preAnswer(ch *Channel) {
	ch.mu.Lock()
	if ch.answerState != "ringing" {
		ch.mu.Unlock()
		return
	}
	ch.answerState = "early"
	if ch.profile != nil {
		ch.profile.progressMedia = time.Now().UnixMicro()
	}
	ch.mu.Unlock()
	ch.fire("CHANNEL_PROGRESS_MEDIA", nil, nil)
	ch.setCallState("EARLY")
}

// hangup tears a channel down in the order FreeSWITCH reports it; a
// loopback peer follows. m is the sendmsg that asked for it, if any.
func (k *call) hangup(x *Channel, cause string, m *sendMsg) {
	if x.isDown() {
		m.finish()
		return
	}
	k.hangupEvent(x, cause)
	if m != nil {
		k.privateCommand(x, m)
		m.finish()
	}
	k.unwind(x)
	x.setRunning("CS_HANGUP", 10)
	x.setCallState("HANGUP")
	peer := k.peer(x)
	peerHung := false
	if peer != nil && !peer.isDown() {
		k.hangupEvent(peer, cause)
		peerHung = true
	}
	k.report(x)
	if peerHung {
		k.unwind(peer)
		peer.setRunning("CS_HANGUP", 10)
		peer.setCallState("HANGUP")
		k.report(peer)
	}
	if !k.resulted {
		k.fail("-ERR " + cause + "\n")
	}
	k.maybeDestroy()
}

func (k *call) hangupEvent(ch *Channel, cause string) {
	now := time.Now()
	ch.mu.Lock()
	ch.down = true
	ch.hungup = now
	ch.hangupCause = cause
	ch.answerState = "hangup"
	ch.stateNum = 10
	running, name := ch.running, ch.name
	ch.mu.Unlock()
	k.s.log(ch, 5, 0, "mod_dptools.c", "hangup_function", 1374,
		"Hangup "+name+" ["+running+"] ["+cause+"]")
	ch.fire("CHANNEL_HANGUP", nil, nil)
	k.s.log(ch, 7, 3, "mod_loopback.c", "channel_kill_channel", 610, name+" CHANNEL KILL")
	for _, h := range k.run(ch).held {
		h.finish()
	}
	k.run(ch).held = nil
}

// unwind ends every app still running on a hung-up channel, innermost first.
func (k *call) unwind(ch *Channel) {
	r := k.run(ch)
	for len(r.stack) > 0 {
		k.s.log(ch, 7, 0, "switch_core_session.c", "switch_core_session_exec", 2984,
			ch.Name()+" skip receive message [APPLICATION_EXEC_COMPLETE] (channel is hungup already)")
		k.completeTop(ch, true)
	}
	r.plan = nil
}

func (k *call) report(ch *Channel) {
	r := k.run(ch)
	ch.setRunning("CS_REPORTING", 11)
	ch.setCDRVars()
	ch.setVar("is_loopback", boolDigit(k.loopback))
	ch.mu.Lock()
	cause, name := ch.hangupCause, ch.name
	ch.mu.Unlock()
	k.s.log(ch, 7, 3, "switch_core_state_machine.c", "switch_core_standard_on_reporting", 168,
		name+" Standard REPORTING, cause: "+cause)
	ch.fire("CHANNEL_HANGUP_COMPLETE", []Header{{"Hangup-Cause", cause}}, nil)
	r.reported = true
	close(ch.reported)
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// maybeDestroy destroys the channels once every one has reported and no
// outbound socket still holds one.
func (k *call) maybeDestroy() {
	for _, ch := range k.legs {
		r := k.run(ch)
		if !r.reported || r.holds > 0 {
			return
		}
	}
	for _, ch := range k.legs {
		r := k.run(ch)
		if r.destroyed {
			continue
		}
		ch.setStateNum(12)
		ch.fire("CHANNEL_DESTROY", nil, nil)
		ch.setRunning("CS_DESTROY", 12)
		ch.mu.Lock()
		name, id := ch.name, ch.sessionID
		ch.mu.Unlock()
		k.s.log(ch, 7, 3, "switch_core_session.c", "switch_core_session_thread", 1748,
			"Session "+strconv.Itoa(id)+" ("+name+") Locked, Waiting on external entities")
		k.s.log(ch, 5, 3, "switch_core_session.c", "switch_core_session_thread", 1766,
			"Session "+strconv.Itoa(id)+" ("+name+") Ended")
		k.s.log(ch, 5, 0, "switch_core_session.c", "switch_core_session_thread", 1770,
			"Close Channel "+name+" [CS_DESTROY]")
		r.destroyed = true
		k.s.removeChannel(ch)
		close(ch.destroyed)
	}
}

// originated completes a pending originate with success, then lets the
// A-leg run its application.
func (k *call) originated() {
	if k.resulted || len(k.legs) == 0 {
		return
	}
	a := k.legs[0]
	if a.isDown() {
		return
	}
	k.flipCID(a)
	k.resulted = true
	k.s.log(nil, 7, 3, "switch_ivr_originate.c", "switch_ivr_originate", 3913,
		"Originate Resulted in Success: ["+a.Name()+"] Peer UUID: "+a.UUID())
	if k.result != nil {
		res := originateResult{body: "+OK " + a.UUID() + "\n", ack: make(chan struct{})}
		k.result <- res
		select {
		case <-res.ack:
		case <-k.s.ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	k.enterExecute(a)
	r := k.run(a)
	if k.aExten != "" {
		r.plan = dialplanFor(k.s, k.aExten)
	} else if k.aApp.name != "" {
		r.plan = []appSpec{k.aApp}
	}
	k.advance(a)
}

func (k *call) fail(body string) {
	if k.resulted {
		return
	}
	k.resulted = true
	if k.result != nil {
		k.result <- originateResult{body: body, ack: make(chan struct{})}
	}
}

// flipCID is what originate does to the A-leg's caller id once answered.
func (k *call) flipCID(a *Channel) {
	a.mu.Lock()
	a.hitDialplan = true
	var from, to string
	if p := a.profile; p != nil {
		from = `"` + p.cidName + `" <` + p.cidNumber + ">"
		p.cidName, p.cidNumber, p.calleeName, p.calleeNumber = p.calleeName, p.calleeNumber, "", p.cidNumber
		to = `"` + p.cidName + `" <` + p.cidNumber + ">"
	}
	name := a.name
	orig := ""
	if a.profile != nil {
		orig = a.profile.origCidNumber
	}
	a.mu.Unlock()
	a.setVar("endpoint_disposition", "ANSWER")
	a.setVar("pre_transfer_caller_id_number", orig)
	a.setVar("channel_cid_flipped", "yes")
	k.s.log(a, 6, 0, "switch_channel.c", "switch_channel_flip_cid", 3291, name+" Flipping CID from "+from+" to "+to)
	a.fire("CALL_UPDATE", []Header{{"Direction", "RECV"}}, nil)
}

func (k *call) enterExecute(ch *Channel) {
	r := k.run(ch)
	if r.executing {
		return
	}
	r.executing = true
	ch.setRunning("CS_EXECUTE", 4)
	ch.setVar("call_uuid", ch.UUID())
}

// playDuration is how long `playback arg` lasts: tone and silence streams
// by their definition, anything else by the configured file duration.
func (k *call) playDuration(arg string) time.Duration {
	switch {
	case strings.HasPrefix(arg, "silence_stream://"):
		f := strings.SplitN(strings.TrimPrefix(arg, "silence_stream://"), ",", 2)
		if ms, err := strconv.Atoi(f[0]); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	case strings.HasPrefix(arg, "tone_stream://"):
		return toneDuration(strings.TrimPrefix(arg, "tone_stream://"))
	}
	return k.s.cfg.playbackDelay
}

// toneDuration sums the on/off times of %(on,off,freq) segments, times loops.
func toneDuration(spec string) time.Duration {
	total := 0
	loops := 1
	for _, part := range strings.Split(spec, ";") {
		if strings.HasPrefix(part, "loops=") {
			if n, err := strconv.Atoi(part[len("loops="):]); err == nil && n > 0 {
				loops = n
			}
			continue
		}
		for rest := part; ; {
			i := strings.Index(rest, "%(")
			if i < 0 {
				break
			}
			rest = rest[i+2:]
			j := strings.IndexByte(rest, ')')
			if j < 0 {
				break
			}
			f := strings.Split(rest[:j], ",")
			if len(f) >= 2 {
				on, _ := strconv.Atoi(strings.TrimSpace(f[0]))
				off, _ := strconv.Atoi(strings.TrimSpace(f[1]))
				total += on + off
			}
			rest = rest[j+1:]
		}
	}
	if total == 0 {
		total = 500
	}
	return time.Duration(total*loops) * time.Millisecond
}

func fileType(path string) string {
	if i := strings.Index(path, "://"); i > 0 {
		return path[:i]
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 && !strings.ContainsRune(path[i:], '/') {
		return path[i+1:]
	}
	return "native"
}
