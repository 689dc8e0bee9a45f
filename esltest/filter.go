package esltest

import (
	"regexp"
	"strings"
)

// myeventsTypes is the channel event set that `myevents` subscribes (spec 14.5).
var myeventsTypes = []string{
	"CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE",
	"CHANNEL_DATA", "CHANNEL_DESTROY", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
	"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID",
	"CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
	"CHANNEL_STATE", "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK", "DETECTED_SPEECH", "DTMF",
	"NOTALK", "TALK",
}

type filterEntry struct {
	header string
	value  string
	re     *regexp.Regexp // set when value is /re/flags
}

// subscription is what one listener receives: enabled flag, event types,
// CUSTOM subclasses, filters and the myevents session restriction.
type subscription struct {
	enabled    bool
	format     format
	types      [numEventTypes]bool
	subclasses map[string]bool
	filters    []filterEntry
	session    string // myevents uuid; empty when not restricted
}

// parseEventKeywords applies the tokens of an `event` command. It reports
// how many keywords (not counting a format word) it saw.
func (sub *subscription) subscribe(tokens []string) int {
	keys := 0
	custom := false
	for i, t := range tokens {
		if i == 0 {
			switch strings.ToLower(t) {
			case "plain":
				sub.format = formatPlain
				continue
			case "json":
				sub.format = formatJSON
				continue
			case "xml":
				sub.format = formatXML
				continue
			}
		}
		keys++
		if custom {
			if sub.subclasses == nil {
				sub.subclasses = map[string]bool{}
			}
			sub.subclasses[t] = true
			continue
		}
		id, ok := eventTypeID(t)
		if !ok {
			continue
		}
		sub.types[id] = true
		if id == 0 {
			custom = true
		}
	}
	if keys > 0 {
		sub.enabled = true
	}
	return keys
}

// unsubscribe applies the tokens of `nixevent`.
func (sub *subscription) unsubscribe(tokens []string) int {
	custom := false
	for _, t := range tokens {
		if custom {
			delete(sub.subclasses, t)
			continue
		}
		id, ok := eventTypeID(t)
		if !ok {
			continue
		}
		if id == typeAll {
			sub.types = [numEventTypes]bool{}
			sub.subclasses = nil
			continue
		}
		sub.types[id] = false
		if id == 0 {
			custom = true
		}
	}
	return len(tokens)
}

func (sub *subscription) clear() {
	sub.enabled = false
	sub.types = [numEventTypes]bool{}
	sub.subclasses = nil
}

func (sub *subscription) addFilter(header, value string) {
	f := filterEntry{header: header, value: value}
	if strings.HasPrefix(value, "/") {
		if end := strings.LastIndexByte(value, '/'); end > 0 {
			expr := value[1:end]
			flags := ""
			for _, c := range value[end+1:] {
				switch c {
				case 'i':
					flags += "i"
				case 's':
					flags += "s"
				}
			}
			if flags != "" {
				expr = "(?" + flags + ")" + expr
			}
			f.re, _ = regexp.Compile(expr)
		}
	}
	sub.filters = append(sub.filters, f)
}

func (sub *subscription) deleteFilter(header, value string) {
	if strings.EqualFold(header, "all") {
		sub.filters = nil
		return
	}
	kept := sub.filters[:0]
	for _, f := range sub.filters {
		if strings.EqualFold(f.header, header) && (value == "" || f.value == value) {
			continue
		}
		kept = append(kept, f)
	}
	sub.filters = kept
}

// wants is the delivery test of spec 14.6, in its order.
func (sub *subscription) wants(e *Event) bool {
	if !sub.enabled {
		return false
	}
	if !sub.types[typeAll] {
		if e.typ < 0 || e.typ >= numEventTypes || !sub.types[e.typ] {
			return false
		}
		if e.typ == 0 && e.subclass != "" && !sub.subclasses[e.subclass] {
			return false
		}
	}
	if len(sub.filters) > 0 && !sub.passFilters(e) {
		return false
	}
	if sub.session != "" {
		uid, owner := e.sessionIDs()
		if uid != sub.session && owner != sub.session {
			return false
		}
	}
	return true
}

func (sub *subscription) passFilters(e *Event) bool {
	send := false
	for _, f := range sub.filters {
		hv, ok := e.get(f.header)
		if !ok {
			continue
		}
		include := true
		v := f.value
		for v != "" && (v[0] == '+' || v[0] == '-' || v[0] == ' ') {
			switch v[0] {
			case '+':
				include = true
			case '-':
				include = false
			}
			v = v[1:]
		}
		if include && send {
			continue
		}
		var match bool
		if f.re != nil {
			// Only a value that itself starts with '/' is a regex; "-/re/" is
			// compared literally (QUIRK S12), which the branch below does.
			match = f.re.MatchString(hv)
		} else {
			match = strings.EqualFold(hv, v)
		}
		if !match {
			continue
		}
		if !include {
			return false
		}
		send = true
	}
	return send
}
