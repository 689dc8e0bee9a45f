package esltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// StreamTemplate is a list of events that Server.Stream cycles through.
type StreamTemplate struct {
	events []*Event
}

// TemplateEvent is one event of a StreamTemplate: its headers in order
// (Event-Name included) and its body.
type TemplateEvent struct {
	Headers []Header
	Body    string
}

// NewStreamTemplate builds a template from events given header by header.
func NewStreamTemplate(events ...TemplateEvent) StreamTemplate {
	var t StreamTemplate
	for _, te := range events {
		t.events = append(t.events, templateEvent(te.Headers, te.Body))
	}
	return t
}

func templateEvent(hs []Header, body string) *Event {
	e := &Event{headers: append([]Header(nil), hs...)}
	if name, ok := e.get("Event-Name"); ok {
		if id, ok := eventTypeID(name); ok && id != typeAll {
			e.typ = id
		}
	}
	if e.typ == 0 {
		e.subclass, _ = e.get("Event-Subclass")
	}
	if body != "" {
		e.setBody(body)
	}
	return e
}

// Len returns the number of events in the template.
func (t StreamTemplate) Len() int { return len(t.events) }

// Events returns the template's events.
func (t StreamTemplate) Events() []TemplateEvent {
	out := make([]TemplateEvent, len(t.events))
	for i, e := range t.events {
		out[i] = TemplateEvent{Headers: e.Headers(), Body: e.body}
	}
	return out
}

// LoadTemplates extracts the inner events of a recorded server stream
// (a .s2c file in plain, json or xml format).
func LoadTemplates(s2c []byte) (StreamTemplate, error) {
	var t StreamTemplate
	for len(s2c) > 0 {
		end := bytes.Index(s2c, []byte("\n\n"))
		if end < 0 {
			break
		}
		hdr := string(s2c[:end])
		s2c = s2c[end+2:]
		var ct string
		n := 0
		for _, ln := range strings.Split(hdr, "\n") {
			k, v, _ := strings.Cut(ln, ": ")
			switch k {
			case "Content-Type":
				ct = v
			case "Content-Length":
				n, _ = strconv.Atoi(v)
			}
		}
		if n > len(s2c) {
			return t, errors.New("esltest: truncated message in stream")
		}
		body := s2c[:n]
		s2c = s2c[n:]
		var hs []Header
		var evBody string
		var err error
		switch ct {
		case "text/event-plain":
			hs, evBody, err = parsePlainEvent(body)
		case "text/event-json":
			hs, evBody, err = parseJSONEvent(body)
		case "text/event-xml":
			hs, evBody, err = parseXMLEvent(body)
		default:
			continue
		}
		if err != nil {
			return t, err
		}
		t.events = append(t.events, templateEvent(hs, evBody))
	}
	if len(t.events) == 0 {
		return t, errors.New("esltest: no events in stream")
	}
	return t, nil
}

func parsePlainEvent(b []byte) ([]Header, string, error) {
	s := string(b)
	head, body, _ := strings.Cut(s, "\n\n")
	var hs []Header
	for _, ln := range strings.Split(head, "\n") {
		k, v, ok := strings.Cut(ln, ": ")
		if !ok {
			continue
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		if v == "_undef_" {
			v = ""
		}
		hs = append(hs, Header{k, v})
	}
	// The body's own Content-Length is part of the framing, not a header.
	if body != "" && len(hs) > 0 && hs[len(hs)-1].Name == "Content-Length" {
		hs = hs[:len(hs)-1]
	}
	return hs, body, nil
}

func parseJSONEvent(b []byte) ([]Header, string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", fmt.Errorf("esltest: bad json event")
	}
	var hs []Header
	body := ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, "", err
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			var items []string
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, "", err
			}
			v = "ARRAY::" + strings.Join(items, "|:")
		}
		if key == "_body" {
			body = v
			continue
		}
		hs = append(hs, Header{key, v})
	}
	if body != "" && len(hs) > 0 && hs[len(hs)-1].Name == "Content-Length" {
		hs = hs[:len(hs)-1]
	}
	_, err := dec.Token()
	if err != nil && err != io.EOF {
		return nil, "", err
	}
	return hs, body, nil
}

var xmlElement = regexp.MustCompile(`(?s)<([A-Za-z0-9_.:-]+)>(.*?)</([A-Za-z0-9_.:-]+)>`)

func parseXMLEvent(b []byte) ([]Header, string, error) {
	s := string(b)
	hstart := strings.Index(s, "<headers>")
	hend := strings.Index(s, "</headers>")
	if hstart < 0 || hend < 0 {
		return nil, "", errors.New("esltest: bad xml event")
	}
	var hs []Header
	for _, m := range xmlElement.FindAllStringSubmatch(s[hstart+len("<headers>"):hend], -1) {
		v := xmlUnescape(m[2])
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		hs = append(hs, Header{m[1], v})
	}
	body := ""
	if i := strings.Index(s, "<body>"); i >= 0 {
		if j := strings.LastIndex(s, "</body>"); j > i {
			body = xmlUnescape(s[i+len("<body>") : j])
			body = strings.TrimSuffix(body, "  ")
		}
	}
	return hs, body, nil
}

func xmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&#xD;", "\r", "&quot;", `"`, "&apos;", "'")
	return r.Replace(s)
}

const streamBatch = 256 << 10

// Stream writes n events to every authenticated inbound connection whose
// subscription and filters want them, cycling through tmpl. The frames are
// encoded once per format and written in large batches, so the fake is not
// what limits a client benchmark. It returns when everything was written,
// with the errors of connections that failed.
func (s *Server) Stream(n int, tmpl StreamTemplate) error {
	if n <= 0 || len(tmpl.events) == 0 {
		return nil
	}
	var frameMu sync.Mutex
	frames := map[format][][]byte{}
	frameOf := func(f format, i int) []byte {
		frameMu.Lock()
		defer frameMu.Unlock()
		fs, ok := frames[f]
		if !ok {
			fs = make([][]byte, len(tmpl.events))
			frames[f] = fs
		}
		if fs[i] == nil {
			fs[i] = tmpl.events[i].frame(f)
		}
		return fs[i]
	}
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	for _, c := range s.connList() {
		c.mu.Lock()
		ok := c.authed && !c.outbound && !c.closing
		var idx []int
		f := c.sub.format
		if ok {
			for i, e := range tmpl.events {
				if c.sub.wants(e) {
					idx = append(idx, i)
				}
			}
		}
		c.mu.Unlock()
		if len(idx) == 0 {
			continue
		}
		var cycle []byte
		var offsets []int // byte offset of each event in the cycle
		for _, i := range idx {
			offsets = append(offsets, len(cycle))
			cycle = append(cycle, frameOf(f, i)...)
		}
		reps := streamBatch/len(cycle) + 1
		batch := bytes.Repeat(cycle, reps)
		perBatch := reps * len(idx)
		full := n / perBatch
		rem := n % perBatch
		tailLen := (rem/len(idx))*len(cycle) + offsetOf(offsets, len(cycle), rem%len(idx))
		job := &streamJob{done: make(chan error, 1)}
		if full > 0 {
			job.pieces = append(job.pieces, streamPiece{batch, full})
		}
		if tailLen > 0 {
			job.pieces = append(job.pieces, streamPiece{batch[:tailLen], 1})
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			select {
			case c.streams <- job:
				select {
				case err = <-job.done:
				case <-c.aborted:
					err = net.ErrClosed
				}
			case <-c.aborted:
				err = net.ErrClosed
			}
			if err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func offsetOf(offsets []int, cycleLen, k int) int {
	if k == 0 {
		return 0
	}
	if k < len(offsets) {
		return offsets[k]
	}
	return cycleLen
}
