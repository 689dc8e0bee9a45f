package esl

// A received event stays in the form it was copied out of C in: one string with every
// name, value and body, and pointer-free tables of offsets into it. That is two
// allocations per event that the garbage collector never has to scan. The first change
// to the headers (AddHeader and friends) converts the event to a slice of headers. (Plain
// and JSON events that need no header rules come as their text alone: see event_text.go.)

// rec is one header of a packed event; its layout equals the shim's eslgo_hdr_t, so a
// whole table is copied from C with one memmove.
type rec struct {
	nameOff, nameLen   uint32
	valueOff, valueLen uint32
	elemFirst          uint32 // first element in spans
	nelem              int32  // elements of an array header; 0 for a scalar header
}

// span is one array element of a packed event (the shim's eslgo_span_t).
type span struct {
	off, len uint32
}

func (e *Event) count() int {
	switch e.form {
	case formPacked:
		return len(e.recs)
	case formPlainText, formJSONText:
		return len(e.textTable())
	}
	return len(e.headers)
}

func (e *Event) nameAt(i int) string {
	switch e.form {
	case formPacked:
		r := &e.recs[i]
		return e.data[r.nameOff : r.nameOff+r.nameLen]
	case formPlainText, formJSONText:
		return e.textTable()[i].name
	}
	return e.headers[i].name
}

func (e *Event) valueAt(i int) string {
	switch e.form {
	case formPacked:
		r := &e.recs[i]
		return e.data[r.valueOff : r.valueOff+r.valueLen]
	case formPlainText, formJSONText:
		return e.textTable()[i].value
	}
	return e.headers[i].value
}

// nelemAt is the element count of header i; 0 for a scalar header.
func (e *Event) nelemAt(i int) int {
	switch e.form {
	case formPacked:
		return int(e.recs[i].nelem)
	case formPlainText, formJSONText:
		// the text forms hold no array headers
		return 0
	}
	if a := e.headers[i].array; a != nil {
		return len(a)
	}
	return 0
}

func (e *Event) elemAt(i, j int) string {
	if e.form == formPacked {
		sp := &e.spans[int(e.recs[i].elemFirst)+j]
		return e.data[sp.off : sp.off+sp.len]
	}
	return e.headers[i].array[j]
}

// arrayAt returns the elements of header i (nil for a scalar header).
func (e *Event) arrayAt(i int) []string {
	switch e.form {
	case formPlainText, formJSONText:
		return nil
	case formHeaders:
		return e.headers[i].array
	}
	n := e.nelemAt(i)
	if n == 0 {
		return nil
	}
	a := make([]string, n)
	for j := range a {
		a[j] = e.elemAt(i, j)
	}
	return a
}

// unpack converts a packed event to the header slice before a change.
func (e *Event) unpack() {
	switch e.form {
	case formHeaders:
		return
	case formPlainText, formJSONText:
		t := e.textTable()
		hs := make([]header, len(t), len(t)+4)
		copy(hs, t)
		e.headers, e.form, e.table, e.memberAt = hs, formHeaders, nil, nil
		return
	}
	hs := make([]header, len(e.recs), len(e.recs)+4)
	for i := range hs {
		hs[i] = header{name: e.nameAt(i), value: e.valueAt(i), array: e.arrayAt(i)}
	}
	e.headers, e.form, e.recs, e.spans = hs, formHeaders, nil, nil
}
