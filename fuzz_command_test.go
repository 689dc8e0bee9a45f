package esl

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets for argument validation and command building: whatever the arguments, a
// command either is refused with ErrBadArgument, or is exactly one command as the server
// frames it (spec 14.1), carrying the arguments unchanged. Never two commands, never a
// command whose body swallows the next one, never a silently shortened argument.

// fzServerSplit frames b as mod_event_socket reads commands: CR/LF at the start of a block
// are dropped, a line ends at LF, the block ends at an empty line, its first line is the
// command, the name of a header is everything before the first ':' and spaces after the
// colon are skipped; a Content-Length header (the first one) announces a body. It returns
// each command's block (without the empty line) and body, and whatever is left over.
func fzServerSplit(b []byte) (blocks, bodies []string, rest []byte) {
	for {
		for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
			b = b[1:]
		}
		i := bytes.Index(b, []byte("\n\n"))
		if i < 0 {
			return blocks, bodies, b
		}
		blk := string(b[:i])
		b = b[i+2:]
		n := 0
		for _, line := range strings.Split(blk, "\n")[1:] {
			name, val, ok := strings.Cut(line, ":")
			if ok && strings.EqualFold(name, "content-length") {
				n = atoi(strings.TrimLeft(val, " "))
				break
			}
		}
		if n < 0 || n > len(b) {
			return blocks, bodies, b
		}
		blocks = append(blocks, blk)
		bodies = append(bodies, string(b[:n]))
		b = b[n:]
	}
}

// fzOneCommand checks that out is exactly one command and returns its block and body.
func fzOneCommand(t *testing.T, what string, out []byte) (string, string) {
	t.Helper()
	if bytes.IndexByte(out, 0) >= 0 {
		t.Fatalf("%s: NUL on the wire: %q", what, out)
	}
	blocks, bodies, rest := fzServerSplit(out)
	if len(blocks) != 1 || len(rest) != 0 {
		t.Fatalf("%s: %d commands and %q left over: %q", what, len(blocks), rest, out)
	}
	if strings.IndexByte(blocks[0], '\r') >= 0 {
		t.Fatalf("%s: CR in the block: %q", what, out)
	}
	return blocks[0], bodies[0]
}

func fzBad(s ...string) bool {
	for _, x := range s {
		if strings.ContainsAny(x, "\r\n\x00") {
			return true
		}
	}
	return false
}

func fzCommandSeeds(tb testing.TB) []string {
	files, _ := filepath.Glob(filepath.Join("testdata", "freeswitch", "*.c2s"))
	var seeds []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, blk := range strings.Split(string(data), "\n\n") {
			if blk != "" {
				seeds = append(seeds, blk)
			}
		}
	}
	return seeds
}

func FuzzCommandArgs(f *testing.F) {
	for _, s := range fzCommandSeeds(f) {
		cmd, arg, _ := strings.Cut(s, " ")
		f.Add(cmd, arg, "5e5e5e5e-aaaa-4bbb-8ccc-0123456789ab", uint8(len(s)))
	}
	f.Add("echo", "a\nb", "", uint8(0))
	f.Add("", "x\r", "u\x00", uint8(3))
	f.Fuzz(func(t *testing.T, a, b, c string, flags uint8) {
		// simpleCommand: "a b c" exactly, or refused.
		out, err := simpleCommand("filter", a, b, c)
		if fzBad(a, b, c) != (err != nil) {
			t.Fatalf("simpleCommand(%q, %q, %q): %v", a, b, c, err)
		}
		if err == nil {
			if blk, body := fzOneCommand(t, "simpleCommand", out); blk != a+" "+b+" "+c || body != "" {
				t.Fatalf("simpleCommand: block %q", blk)
			}
		} else if !errors.Is(err, ErrBadArgument) {
			t.Fatal(err)
		}

		// api and bgapi with an optional Job-UUID.
		out, err = bgapiCommand(a, b, c)
		if (a == "" || fzBad(a, b, c)) != (err != nil) {
			t.Fatalf("bgapiCommand(%q, %q, %q): %v", a, b, c, err)
		}
		if err == nil {
			want := "bgapi " + a
			if b != "" {
				want += " " + b
			}
			if c != "" {
				want += "\nJob-UUID: " + c
			}
			if blk, body := fzOneCommand(t, "bgapiCommand", out); blk != want || body != "" {
				t.Fatalf("bgapiCommand: block %q, want %q", blk, want)
			}
		}

		// sendmsg execute.
		out, err = executeCommand(a, b, c, flags&1 != 0, flags&2 != 0)
		if (a == "" || fzBad(a, b, c)) != (err != nil) {
			t.Fatalf("executeCommand(%q, %q, %q): %v", a, b, c, err)
		}
		if err == nil {
			blk, body := fzOneCommand(t, "executeCommand", out)
			lines := strings.Split(blk, "\n")
			want := "sendmsg"
			if c != "" {
				want += " " + c
			}
			if lines[0] != want || body != "" || !strings.Contains(blk, "\nexecute-app-name: "+a+"\n") &&
				!strings.HasSuffix(blk, "\nexecute-app-name: "+a) {
				t.Fatalf("executeCommand: block %q", blk)
			}
		}

		// sendevent: headers named and valued by the fuzzer, and a body.
		ev := NewEvent("CUSTOM", "fz::test")
		ev.AddHeader(a, b)
		if flags&4 != 0 {
			ev.AddBody(c)
		}
		out, err = eventCommand("sendevent", "sendevent CUSTOM", ev)
		refuse := ev.HasBody() && strings.IndexByte(ev.GetBody(), 0) >= 0
		for name, value := range ev.Headers() {
			if !strings.EqualFold(name, "content-length") &&
				(name == "" || strings.ContainsAny(name, ":\r\n\x00") || fzBad(value)) {
				refuse = true
			}
		}
		if refuse != (err != nil) {
			t.Fatalf("eventCommand with %q: %q, body %q: %v", a, b, ev.GetBody(), err)
		}
		if err == nil {
			blk, body := fzOneCommand(t, "eventCommand", out)
			if body != ev.GetBody() {
				t.Fatalf("eventCommand: body %q, want %q", body, ev.GetBody())
			}
			if !strings.HasPrefix(blk, "sendevent CUSTOM\n") {
				t.Fatalf("eventCommand: block %q", blk)
			}
			for name, value := range ev.Headers() {
				if strings.EqualFold(name, "content-length") {
					continue
				}
				if value == "" {
					value = "_undef_"
				}
				if !strings.Contains(blk+"\n", "\n"+name+": "+value+"\n") {
					t.Fatalf("eventCommand: header %q: %q missing from %q", name, value, blk)
				}
			}
		} else if !errors.Is(err, ErrBadArgument) {
			t.Fatal(err)
		}

		// Raw commands (Send, SendRecv): the text may span lines; it must stay one command.
		for _, raw := range []string{a, a + "\n" + b, a + "\n\n" + b, a + "\nContent-Length: " + strconv.Itoa(len(b)) + "\n\n" + b} {
			out, err := rawCommand("send", raw)
			if err != nil {
				if !errors.Is(err, ErrBadArgument) {
					t.Fatal(err)
				}
				continue
			}
			blk, body := fzOneCommand(t, "rawCommand", out)
			head, _, _ := strings.Cut(strings.TrimLeft(raw, "\r\n"), "\n\n")
			if blk != strings.TrimRight(head, "\r\n") {
				t.Fatalf("rawCommand(%q): block %q", raw, blk)
			}
			if !strings.Contains(raw, body) {
				t.Fatalf("rawCommand(%q): body %q", raw, body)
			}
		}
		// The job table's look at each command never fails.
		var jt jobTable
		jt.init()
		jt.noteCommand([]byte(a + " " + b))
	})
}
