package esltest

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// runAPI executes an api command line and fires the API event. The
// returned ack, when not nil, must be closed once the caller fired its own
// events (see originateResult).
func (s *Server) runAPI(cmdline, jobUUID string, c *conn) (string, chan struct{}) {
	cmd, arg, _ := strings.Cut(strings.TrimLeft(cmdline, " "), " ")
	arg = strings.TrimLeft(arg, " ")
	s.mu.Lock()
	fn := s.apis[cmd]
	s.mu.Unlock()
	var out string
	var ack chan struct{}
	found := true
	if fn != nil {
		out = fn(arg)
	} else {
		out, ack, found = s.builtinAPI(cmd, arg)
	}
	if !found {
		return "-ERR " + cmd + " Command not found!\n", nil
	}
	if out == "" {
		out = "-ERR no reply\n"
	}
	e := s.newStdEvent(23, "switch_loadable_module.c", "switch_api_execute", 3140)
	e.add("API-Command", cmd)
	if arg != "" {
		e.add("API-Command-Argument", arg)
	}
	s.fire(e)
	return out, ack
}

// builtinAPI implements the api commands the fake knows.
func (s *Server) builtinAPI(cmd, arg string) (string, chan struct{}, bool) {
	switch cmd {
	case "status":
		return s.statusText(), nil, true
	case "version":
		return "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n", nil, true
	case "uptime":
		up := time.Since(s.started)
		switch strings.TrimSpace(arg) {
		case "ms":
			return strconv.FormatInt(up.Milliseconds(), 10), nil, true
		case "m":
			return strconv.FormatInt(int64(up.Minutes()), 10), nil, true
		}
		return strconv.FormatInt(int64(up.Seconds()), 10), nil, true
	case "hostname":
		return s.hostname, nil, true
	case "create_uuid":
		return newUUID(), nil, true
	case "global_getvar":
		return s.global(strings.TrimSpace(arg)), nil, true
	case "global_setvar":
		k, v, _ := strings.Cut(arg, "=")
		s.SetGlobal(strings.TrimSpace(k), v)
		return "+OK", nil, true
	case "echo":
		return arg, nil, true
	case "eval":
		return s.expand(arg), nil, true
	case "expr":
		v, ok := evalExpr(arg)
		if !ok {
			return "!err!", nil, true
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil, true
	case "msleep":
		ms, _ := strconv.Atoi(strings.TrimSpace(arg))
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.ctx.Done():
		}
		return "+OK", nil, true
	case "originate":
		body, ack := s.originate(arg)
		return body, ack, true
	case "uuid_kill":
		f := strings.Fields(arg)
		if len(f) == 0 {
			return "-USAGE: <uuid> [cause]\n", nil, true
		}
		ch := s.Channel(f[0])
		if ch == nil {
			return "-ERR No such channel!\n", nil, true
		}
		cause := "NORMAL_CLEARING"
		if len(f) > 1 {
			cause = f[1]
		}
		ch.Hangup(cause)
		return "+OK\n", nil, true
	case "hupall":
		f := strings.Fields(arg)
		cause := "NORMAL_CLEARING"
		if len(f) > 0 {
			cause = f[0]
		}
		for _, ch := range s.Channels() {
			if len(f) >= 3 && ch.Var(f[1]) != f[2] {
				continue
			}
			ch.Hangup(cause)
		}
		return "+OK hangup all channels with cause " + cause + "\n", nil, true
	case "uuid_exists":
		return strconv.FormatBool(s.Channel(strings.TrimSpace(arg)) != nil), nil, true
	case "uuid_getvar":
		f := strings.Fields(arg)
		if len(f) < 2 {
			return "-USAGE: <uuid> <var>\n", nil, true
		}
		ch := s.Channel(f[0])
		if ch == nil {
			return "-ERR No such channel!\n", nil, true
		}
		if v := ch.Var(f[1]); v != "" {
			return v, nil, true
		}
		return "_undef_", nil, true
	case "uuid_setvar":
		f := strings.SplitN(arg, " ", 3)
		if len(f) < 2 {
			return "-USAGE: <uuid> <var> [value]\n", nil, true
		}
		ch := s.Channel(f[0])
		if ch == nil {
			return "-ERR No such channel!\n", nil, true
		}
		if len(f) == 3 {
			ch.setVar(f[1], f[2])
		} else {
			ch.unsetVar(f[1])
		}
		return "+OK\n", nil, true
	case "uuid_answer", "uuid_recv_dtmf", "uuid_send_dtmf", "uuid_transfer", "uuid_break":
		f := strings.Fields(arg)
		if len(f) == 0 {
			return "-USAGE: <uuid>\n", nil, true
		}
		ch := s.Channel(f[0])
		if ch == nil {
			return "-ERR No such channel!\n", nil, true
		}
		switch cmd {
		case "uuid_answer":
			ch.call.send(callMsg{kind: msgSendmsg, ch: ch, msg: &sendMsg{command: "execute", app: "answer", loops: 1}})
		case "uuid_recv_dtmf":
			if len(f) > 1 {
				ch.SendDTMF(f[1])
			}
		case "uuid_transfer":
			if len(f) > 1 {
				ch.call.send(callMsg{kind: msgSendmsg, ch: ch, msg: &sendMsg{command: "execute", app: "transfer", arg: f[1], loops: 1}})
			}
		}
		return "+OK\n", nil, true
	case "show":
		f := strings.Fields(arg)
		if len(f) >= 2 && f[len(f)-1] == "count" && (f[0] == "channels" || f[0] == "calls") {
			n := len(s.Channels())
			if f[0] == "calls" {
				n = 0
				seen := map[*call]bool{}
				for _, ch := range s.Channels() {
					if !seen[ch.call] {
						seen[ch.call] = true
						n++
					}
				}
			}
			return "\n" + strconv.Itoa(n) + " total.\n", nil, true
		}
		return "", nil, false
	case "reloadxml":
		return "+OK [Success]\n", nil, true
	case "load", "unload", "reload":
		return "+OK\n", nil, true
	case "bgapi":
		if strings.TrimSpace(arg) == "" {
			return "-ERR Invalid syntax\n", nil, true
		}
		job := newUUID()
		s.goRun(func() {
			out, ack := s.runAPI(arg, job, nil)
			c, a, _ := strings.Cut(arg, " ")
			e := s.newStdEvent(46, "mod_commands.c", "bgapi_exec", 4897)
			e.add("Job-UUID", job)
			e.add("Job-Command", c)
			if a != "" {
				e.add("Job-Command-Arg", a)
			}
			e.setBody(out)
			s.fire(e)
			if ack != nil {
				close(ack)
			}
		})
		return "+OK Job-UUID: " + job + "\n", nil, true
	}
	return "", nil, false
}

func (s *Server) statusText() string {
	up := time.Since(s.started)
	live := s.stats.live.Load()
	peak := s.stats.sessionsPeak.Load()
	return "UP " + uptimeText(up) + "\n" +
		"FreeSWITCH (Version 1.11.3-dev  64bit) is ready\n" +
		strconv.FormatInt(s.stats.sessionsTotal.Load(), 10) + " session(s) since startup\n" +
		strconv.FormatInt(live, 10) + " session(s) - peak " + strconv.FormatInt(peak, 10) + ", last 5min " + strconv.FormatInt(peak, 10) + " \n" +
		"0 session(s) per Sec out of max 30, peak " + strconv.FormatInt(peak, 10) + ", last 5min 0 \n" +
		"1000 session(s) max\n" +
		"min idle cpu 0.00/97.93\n" +
		"Current Stack Size/Max 240K/8192K\n"
}

// expand replaces ${name} with global variables, as `eval` does.
func (s *Server) expand(in string) string {
	var b strings.Builder
	for {
		i := strings.Index(in, "${")
		if i < 0 {
			b.WriteString(in)
			return b.String()
		}
		j := strings.IndexByte(in[i:], '}')
		if j < 0 {
			b.WriteString(in)
			return b.String()
		}
		b.WriteString(in[:i])
		b.WriteString(s.global(in[i+2 : i+j]))
		in = in[i+j+1:]
	}
}

// evalExpr evaluates the arithmetic of `expr`: + - * / % ^ and parentheses.
func evalExpr(src string) (float64, bool) {
	p := &exprParser{src: strings.ReplaceAll(src, " ", "")}
	v, ok := p.sum()
	return v, ok && p.pos == len(p.src)
}

type exprParser struct {
	src string
	pos int
}

func (p *exprParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *exprParser) sum() (float64, bool) {
	v, ok := p.product()
	for ok {
		switch p.peek() {
		case '+':
			p.pos++
			r, k := p.product()
			v, ok = v+r, k
		case '-':
			p.pos++
			r, k := p.product()
			v, ok = v-r, k
		default:
			return v, ok
		}
	}
	return v, ok
}

func (p *exprParser) product() (float64, bool) {
	v, ok := p.power()
	for ok {
		switch p.peek() {
		case '*':
			p.pos++
			r, k := p.power()
			v, ok = v*r, k
		case '/':
			p.pos++
			r, k := p.power()
			if r == 0 {
				return 0, false
			}
			v, ok = v/r, k
		case '%':
			p.pos++
			r, k := p.power()
			if r == 0 {
				return 0, false
			}
			v, ok = math.Mod(v, r), k
		default:
			return v, ok
		}
	}
	return v, ok
}

func (p *exprParser) power() (float64, bool) {
	v, ok := p.unary()
	if ok && p.peek() == '^' {
		p.pos++
		r, k := p.power()
		return math.Pow(v, r), k
	}
	return v, ok
}

func (p *exprParser) unary() (float64, bool) {
	switch p.peek() {
	case '-':
		p.pos++
		v, ok := p.unary()
		return -v, ok
	case '+':
		p.pos++
		return p.unary()
	case '(':
		p.pos++
		v, ok := p.sum()
		if !ok || p.peek() != ')' {
			return 0, false
		}
		p.pos++
		return v, true
	}
	start := p.pos
	for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
		p.pos++
	}
	v, err := strconv.ParseFloat(p.src[start:p.pos], 64)
	return v, err == nil
}
