// Command fscli is a small FreeSWITCH console in the spirit of fs_cli.
//
//	go run ./examples/fscli                          # 127.0.0.1:8021, password ClueCon
//	go run ./examples/fscli -H pbx -P 8021 -p secret
//	go run ./examples/fscli -u 1000@example.com -p secret
//	go run ./examples/fscli -x "show channels"       # one command, print its output, exit
//
// Lines typed at the prompt are sent as "api <line>" and their output is printed. Lines
// that start with a slash are console commands:
//
//	/log LEVEL     log level for log lines (console, alert, crit, err, warning, notice, info, debug, or 0-7)
//	/nolog         stop receiving log lines
//	/event ARGS    subscribe to events, e.g. /event plain CHANNEL_CREATE DTMF (sent as "event ARGS")
//	/noevents      stop receiving events
//	/nixevent ARGS unsubscribe from some events
//	/filter ARGS   event filter, e.g. /filter Unique-ID <uuid>, /filter delete all
//	/debug N       log level of the esl library itself (0-7)
//	/help          this list
//	/quit, /exit, /bye, ...   leave
//
// Log lines and events are printed as they arrive. History is kept in ~/.fscli_history
// when the input is a terminal; when it is not (a pipe or a file), the lines are read
// one by one and no prompt is shown, so fscli can be scripted.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chzyer/readline"

	"github.com/cgoesl/esl"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	host     string
	port     int
	password string
	user     string
	execute  string
	logLevel string
	quiet    bool
	noColor  bool
	timeout  time.Duration
	history  string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fscli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.host, "H", "127.0.0.1", "host to connect to")
	fs.IntVar(&o.port, "P", 8021, "port to connect to")
	fs.StringVar(&o.password, "p", "ClueCon", "password")
	fs.StringVar(&o.user, "u", "", "user@domain for userauth (with -p as that user's esl-password)")
	fs.StringVar(&o.execute, "x", "", "run this api command, print its output and exit")
	fs.StringVar(&o.logLevel, "l", "debug", "log level to ask for when interactive")
	fs.BoolVar(&o.quiet, "q", false, "interactive without log lines (no \"log\" command at start)")
	fs.BoolVar(&o.noColor, "n", false, "no colours")
	fs.DurationVar(&o.timeout, "t", 0, "how long -x waits for the answer (0: no limit)")
	home, _ := os.UserHomeDir()
	if home != "" {
		o.history = filepath.Join(home, ".fscli_history")
	}
	fs.StringVar(&o.history, "history", o.history, "history file for interactive use")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: fscli [-H host] [-P port] [-p password] [-u user@domain] [-x command] [-l loglevel] [-q] [-n]")
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fs.Usage()
	}
	return o, err
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintln(stderr, "fscli:", err)
		return 2
	}

	var con *esl.Connection
	if o.user != "" {
		con = esl.NewConnectionUser(o.host, o.port, o.user, o.password)
	} else {
		con = esl.NewConnection(o.host, o.port, o.password)
	}
	if !con.Connected() {
		fmt.Fprintf(stderr, "Error Connecting [%s:%d]: %v\n", o.host, o.port, con.Err())
		return 1
	}
	defer con.Disconnect()

	if o.execute != "" {
		return oneShot(ctx, con, o, stdout, stderr)
	}
	return interactive(con, o, stdin, stdout, stderr)
}

// oneShot runs -x: one api command, its output on stdout.
func oneShot(ctx context.Context, con *esl.Connection, o options, stdout, stderr io.Writer) int {
	cmd, arg := splitCommand(o.execute)
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	ev, err := con.ApiContext(ctx, cmd, arg)
	if ev == nil {
		fmt.Fprintf(stderr, "fscli: api %s: %v\n", o.execute, err)
		return 1
	}
	// A -ERR answer (err wraps esl.ErrCommand) is printed like any other, as fs_cli does.
	printReply(stdout, ev)
	return 0
}

func splitCommand(line string) (cmd, arg string) {
	line = strings.TrimSpace(line)
	cmd, arg, _ = strings.Cut(line, " ")
	return cmd, strings.TrimSpace(arg)
}

// printReply prints an api body, or the Reply-Text of a command reply.
func printReply(w io.Writer, ev *esl.Event) {
	if ev == nil {
		return
	}
	text := ev.GetBody()
	if text == "" {
		text = ev.GetHeader("Reply-Text")
	}
	if text == "" {
		return
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	io.WriteString(w, text)
}

// console holds the interactive session. The receive loop and the command loop share the
// connection through mu, the way fs_cli does: the receiver polls with short timed
// receives and lets go of the lock in between, so a command's reply is printed before
// the events that follow it.
type console struct {
	con   *esl.Connection
	mu    sync.Mutex // serialises use of con
	outMu sync.Mutex // serialises writes to out
	out   io.Writer
	color bool

	quitting   atomic.Bool // the user asked to leave
	serverGone atomic.Bool // the connection ended before that
}

func (c *console) print(s string) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	io.WriteString(c.out, s)
}

// lineReader is what the command loop reads from: readline on a terminal, plain lines
// otherwise.
type lineReader interface {
	Readline() (string, error)
	Close() error
}

// plainLines reads lines in a goroutine so that Close can end a Readline that waits.
type plainLines struct {
	lines chan string
	done  chan struct{}
	once  sync.Once
}

func newPlainLines(r io.Reader) *plainLines {
	p := &plainLines{lines: make(chan string), done: make(chan struct{})}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			case <-p.done:
				return
			}
		}
	}()
	return p
}

func (p *plainLines) Readline() (string, error) {
	select {
	case line, ok := <-p.lines:
		if ok {
			return line, nil
		}
	case <-p.done:
	}
	return "", io.EOF
}

func (p *plainLines) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func newLineReader(o options, stdin io.Reader, stdout, stderr io.Writer, prompt string) (lineReader, io.Writer) {
	f, isFile := stdin.(*os.File)
	if isFile && readline.IsTerminal(int(f.Fd())) {
		rl, err := readline.NewEx(&readline.Config{
			Prompt:          prompt,
			HistoryFile:     o.history,
			InterruptPrompt: "^C",
			EOFPrompt:       "/exit",
			Stdout:          stdout,
			Stderr:          stderr,
		})
		if err == nil {
			return rl, rl.Stdout() // writes through rl keep the prompt intact
		}
	}
	return newPlainLines(stdin), stdout
}

func interactive(con *esl.Connection, o options, stdin io.Reader, stdout, stderr io.Writer) int {
	prompt := "freeswitch@" + o.host + "> "
	if ev := con.Api("global_getvar", "hostname"); ev != nil {
		if h := strings.TrimSpace(ev.GetBody()); h != "" && !strings.HasPrefix(h, "-ERR") {
			prompt = "freeswitch@" + h + "> "
		}
	}
	lines, out := newLineReader(o, stdin, stdout, stderr, prompt)
	defer lines.Close()

	c := &console{con: con, out: out}
	if f, ok := stdout.(*os.File); ok && !o.noColor {
		c.color = readline.IsTerminal(int(f.Fd()))
	}
	c.print("Type /help <enter> to see a list of commands\n")
	if !o.quiet && o.logLevel != "" {
		c.command("log " + o.logLevel)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.receive()
		lines.Close() // the server went away: stop reading commands
	}()

	for {
		line, err := lines.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue
		}
		if err != nil || c.serverGone.Load() || !c.handle(strings.TrimSpace(line)) {
			break // EOF counts as /exit
		}
	}
	c.quitting.Store(true)
	c.mu.Lock()
	con.Disconnect()
	c.mu.Unlock()
	wg.Wait()
	if c.serverGone.Load() {
		return 1
	}
	return 0
}

// handle runs one input line; false means leave.
func (c *console) handle(line string) bool {
	if line == "" {
		return true
	}
	if !strings.HasPrefix(line, "/") {
		if line == "..." {
			return false
		}
		cmd, arg := splitCommand(line)
		c.mu.Lock()
		ev := c.con.Api(cmd, arg)
		c.mu.Unlock()
		if ev == nil {
			c.print(fmt.Sprintf("-ERR %v\n", c.con.Err()))
			return c.con.Connected()
		}
		var b strings.Builder
		printReply(&b, ev)
		c.print(b.String())
		return true
	}
	word, rest := splitCommand(line[1:])
	switch strings.ToLower(word) {
	case "quit", "exit", "bye":
		return false
	case "help":
		c.print(helpText)
	case "log":
		if rest == "" {
			rest = "debug"
		}
		c.command("log " + rest)
	case "nolog":
		c.command("nolog")
	case "event":
		if rest == "" {
			c.print("usage: /event [plain|json|xml] NAME ... (e.g. /event plain ALL)\n")
			return true
		}
		c.command("event " + rest)
	case "noevents":
		c.command("noevents")
	case "nixevent":
		c.command("nixevent " + rest)
	case "filter":
		if rest == "" {
			c.print("usage: /filter HEADER VALUE | /filter delete HEADER [VALUE] | /filter delete all\n")
			return true
		}
		c.command("filter " + rest)
	case "debug":
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || n > 7 {
			c.print("usage: /debug 0-7\n")
			return true
		}
		esl.SetLogLevel(n)
		c.print(fmt.Sprintf("+OK esl library log level %d\n", n))
	default:
		c.print(fmt.Sprintf("Unknown command [%s], type /help\n", word))
	}
	return true
}

const helpText = `Command                    Description
-----------------------------------------------
/help                      Help
/exit, /quit, /bye, ...    Exit the program.
/event, /noevents, /nixevent  Enable or disable events.
/log, /nolog               Set the log level or stop logging.
/filter                    Filter events (filter HEADER VALUE, filter delete all).
/debug [0-7]               Log level of the esl library.
Anything else is sent as "api <line>".
`

// command sends a socket command and prints its Reply-Text.
func (c *console) command(cmd string) {
	c.mu.Lock()
	ev := c.con.SendRecv(cmd)
	c.mu.Unlock()
	if ev == nil {
		c.print(fmt.Sprintf("-ERR %v\n", c.con.Err()))
		return
	}
	c.print(ev.GetHeader("Reply-Text") + "\n")
}

// receive prints log lines and events until the connection ends.
func (c *console) receive() {
	for {
		c.mu.Lock()
		ev := c.con.RecvEventTimed(10)
		connected := c.con.Connected()
		c.mu.Unlock()
		if ev != nil {
			c.show(ev)
		}
		if !connected {
			if !c.quitting.Load() {
				c.serverGone.Store(true)
			}
			return
		}
		if ev == nil {
			time.Sleep(5 * time.Millisecond) // give the command loop its turn at the lock
		}
	}
}

// ANSI colours by log level, as fs_cli uses them.
var levelColor = [8]string{"\033[0m", "\033[31m", "\033[31m", "\033[31m", "\033[35m", "\033[36m", "\033[32m", "\033[33m"}

func (c *console) show(ev *esl.Event) {
	switch ct := ev.GetHeader("Content-Type"); ct {
	case "log/data":
		body := ev.GetBody()
		if c.color {
			if lvl, err := strconv.Atoi(ev.GetHeader("Log-Level")); err == nil && lvl >= 0 && lvl < len(levelColor) {
				body = levelColor[lvl] + body + "\033[0m"
			}
		}
		c.print(body)
	case "text/disconnect-notice":
		c.print(ev.GetBody())
		if ev.GetHeader("Content-Disposition") == "linger" {
			return
		}
	case "text/event-xml":
		c.print("RECV EVENT\n" + ev.GetBody() + "\n")
	case "command/reply", "api/response":
		var b strings.Builder
		printReply(&b, ev)
		c.print(b.String())
	default:
		if ev.GetHeader("Event-Name") == "SERVER_DISCONNECTED" {
			c.print("Disconnected.\n")
			return
		}
		c.print("RECV EVENT\n" + ev.Serialize("plain") + "\n")
	}
}
