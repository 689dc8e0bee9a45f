package esltest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// logLevels are the level names `log` accepts (spec 14.5).
var logLevels = map[string]int{
	"DISABLE": -1, "CONSOLE": 0, "ALERT": 1, "CRIT": 2, "ERR": 3, "ERROR": 3,
	"WARNING": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7,
}

var levelNames = []string{"CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG"}

// logLine is one log/data message.
type logLine struct {
	level   int
	channel int // Text-Channel: 1 lines carry no time/level prefix
	file    string
	fn      string
	line    int
	uuid    string
	text    string
}

func (l *logLine) frame() []byte {
	return []byte("Content-Type: log/data\nContent-Length: " + strconv.Itoa(len(l.text)) +
		"\nLog-Level: " + strconv.Itoa(l.level) +
		"\nText-Channel: " + strconv.Itoa(l.channel) +
		"\nLog-File: " + l.file +
		"\nLog-Func: " + l.fn +
		"\nLog-Line: " + strconv.Itoa(l.line) +
		"\nUser-Data: " + l.uuid + "\n\n" + l.text)
}

// log sends a log line to the listeners that asked for its level. ch may be
// nil for lines that belong to no session.
func (s *Server) log(ch *Channel, level, textChannel int, file, fn string, line int, msg string) {
	s.busMu.Lock()
	defer s.busMu.Unlock()
	conns := s.connList()
	// Most listeners never ask for logs: the line is not even formatted then.
	if !slices.ContainsFunc(conns, func(c *conn) bool { return c.logsAt(level) }) {
		return
	}
	l := &logLine{level: level, channel: textChannel, file: file, fn: fn, line: line}
	if ch != nil {
		l.uuid = ch.UUID()
	}
	if textChannel == 1 {
		l.text = msg + "\n"
	} else {
		name := "DEBUG"
		if level >= 0 && level < len(levelNames) {
			name = levelNames[level]
		}
		l.text = fmt.Sprintf("%s 98.67%% [%s] %s:%d %s\n",
			time.Now().Format("2006-01-02 15:04:05.000000"), name, file, line, msg)
	}
	for _, c := range conns {
		c.offerLog(l)
	}
}

// Log emits a log line as FreeSWITCH would, to every listener logging at
// that level (0 console .. 7 debug).
func (s *Server) Log(level int, text string) {
	s.log(nil, level, 0, "esltest.go", "Log", 1, text)
}

// logState writes the lines the state machine logs around a state change.
func (k *call) logState(ch *Channel, state string) {
	ch.mu.Lock()
	name := ch.name
	ch.mu.Unlock()
	short := strings.TrimPrefix(state, "CS_")
	live := strconv.FormatInt(k.s.stats.live.Load(), 10)
	total := strconv.FormatInt(k.s.stats.sessionsTotal.Load(), 10)
	k.s.log(ch, 7, 0, "switch_core_state_machine.c", "switch_core_session_run", 581,
		"("+name+") Running State Change "+state+" (Cur "+live+" Tot "+total+")")
	k.s.log(ch, 7, 3, "switch_core_state_machine.c", "switch_core_session_run", 624,
		"("+name+") State "+short)
	switch state {
	case "CS_INIT", "CS_ROUTING", "CS_EXECUTE", "CS_HANGUP", "CS_REPORTING", "CS_DESTROY", "CS_CONSUME_MEDIA":
		k.s.log(ch, 7, 3, "mod_loopback.c", "channel_on_"+strings.ToLower(short), 412,
			name+" CHANNEL "+short)
		k.s.log(ch, 7, 3, "switch_core_state_machine.c", "switch_core_standard_on_"+strings.ToLower(short), 230,
			name+" Standard "+short)
	}
	k.s.log(ch, 7, 3, "switch_core_state_machine.c", "switch_core_session_run", 624,
		"("+name+") State "+short+" going to sleep")
}

// logDialplan writes the lines of an XML dialplan hunt.
func (s *Server) logDialplan(ch *Channel, exten string, apps []appSpec) {
	ch.mu.Lock()
	name := ch.name
	ch.mu.Unlock()
	s.log(ch, 6, 3, "mod_dialplan_xml.c", "dialplan_hunt", 648, "Processing  <0000000000>->"+exten+" in context default")
	s.log(ch, 7, 1, "mod_dialplan_xml.c", "dialplan_hunt", 705, "Dialplan: "+name+" parsing [default->"+exten+"] continue=false")
	s.log(ch, 7, 1, "mod_dialplan_xml.c", "parse_exten", 419,
		"Dialplan: "+name+" Regex (PASS) ["+exten+"] destination_number("+exten+") =~ /^"+exten+"$/ break=on-false")
	for _, a := range apps {
		s.log(ch, 7, 1, "mod_dialplan_xml.c", "parse_exten", 566, "Dialplan: "+name+" Action "+a.name+"("+a.arg+") ")
	}
}
