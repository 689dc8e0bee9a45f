// Package esl drives FreeSWITCH through its Event Socket (mod_event_socket), on top of a
// C libesl linked with cgo.
//
// It has two layers over one connection type:
//
//   - The twins mirror the SWIG ESL bindings (ESLconnection, ESLevent) one to one, so code
//     and habits from the Perl, Python, Ruby or Java bindings carry over: NewConnection,
//     Api, Bgapi, SendRecv, Send, RecvEvent, RecvEventTimed, Execute, Events, Filter,
//     SendEvent, SendMSG, GetInfo, Disconnect; NewEvent, GetHeader, AddHeader, Serialize.
//     Like their originals they return nil or a status on failure; Err tells why.
//   - The idiomatic layer: Dial with options, methods taking a context and returning
//     errors (SendRecvContext, ApiContext, ExecuteContext, RecvEventContext), an iterator
//     over events (EventStream), a callback receiver for high event rates
//     (ReceiveEvents) and background jobs that cannot miss their result (BackgroundJob).
//
// # Link modes
//
// By default the package compiles this repository's C implementation of libesl (csrc/).
// With the build tag libesl it links an original libesl instead; point cgo at it:
//
//	CGO_CFLAGS="-I<libesl>/include" CGO_LDFLAGS="<libesl>/lib/libesl.a -lpthread -lm" go build -tags libesl
//
// The Go code is the same in both modes; features only csrc has (WithLimits) report
// ErrUnsupported there. Without cgo the package compiles, events work, and every
// Connection constructor, NewOutboundServer, Listen and ListenThreaded fail with ErrNoCgo.
//
// # Events are Go values
//
// A received message is copied out of C in one piece as soon as it arrives, and nothing of
// it stays in C (with the bundled csrc, plain and JSON events are packed straight from the
// received text, without building a C event at all): an Event holds no C memory, needs no
// Close and no finalizer, and C memory does not pile up however many events a program
// drops on the floor. All names, values and the body of a received event share one Go
// string. A plain or JSON event that none of libesl's header rules would change (nearly
// every real one) is even kept as the text it arrived in: GetHeader finds the header in
// the text and decodes only the value it returns, and the full header table is built the
// first time a call needs every header (Len, Headers, Serialize, a change).
//
// Lent events: the one cost left per event is that copy of its text, which the garbage
// collector must later reclaim. ReceiveEvents removes it for streams: it lends each event
// to a callback, with its text in a buffer that is reused once the callback returns. The
// strings a lent event hands out (GetHeader, Headers, Serialize, ...) are its own copies
// and may be kept; the event itself reads as empty after the callback, and Clone keeps
// it whole. Events taken with RecvEvent and the other receivers are never lent.
//
// For events (text/event-plain and text/event-json) RecvEvent returns the event itself
// (type CHANNEL_CREATE, ...); for everything else (replies, log/data, text/event-xml
// whose XML is the body, disconnect notices) it returns the message, whose type is
// SOCKET_DATA, as the SWIG bindings do.
//
// # Connections and memory
//
// Each Connection owns an esl_handle_t in C memory (calloc). It is freed only after
// esl_disconnect returned, and esl_disconnect runs only after the reader goroutine exited.
// Close (or Disconnect) is idempotent and may be called at any time from any goroutine;
// every method of a closed Connection returns nil or an error, never crashes. A
// Connection dropped without Close is closed by a cleanup when the garbage collector finds
// it; that is a safety net, not a way of working. With ESL_LEAKCHECK=1 in the environment
// such a leak is reported with the stack that created the connection (ESL_LEAKCHECK=panic
// makes it fatal, for tests).
//
// # Concurrency
//
// A Connection is safe for concurrent use. The contract:
//
//   - One reader goroutine per connection owns the receive side. With csrc it waits for
//     input in the runtime's network poller, like any Go socket (the socket is made
//     non-blocking), and calls C only to read what is there and parse it, a batch of
//     messages per cgo call (esl_recv_event_nowait); a waiting connection holds no OS
//     thread. With the original libesl it sits in a blocking esl_recv_event in C (one cgo
//     call per message), holding one OS thread per open connection. Either way it is
//     woken on close by shutdown(2) of the socket. Nothing else receives, so RecvEvent
//     never blocks Api and Api never blocks behind the next event, unlike the handle lock
//     of libesl.
//   - One exception, for speed, with csrc and the poller: a goroutine that waits for its
//     own reply with no deadline (a twin, or a context without Done) and no other command
//     outstanding may do the reader's work itself until its reply is in, instead of being
//     woken by the reader goroutine (the wake-up costs more than the round trip). It reads
//     and routes exactly as the reader goroutine does, and only one goroutine reads at a
//     time. The reader goroutine gives the socket up only right after such a reply and
//     while no goroutine waits for events, a job or a reply it will not read itself, and
//     takes it back as soon as one does, or after a millisecond without a round trip. So
//     an event that arrives while one goroutine makes round trips back to back and nobody
//     waits for events is queued by the next round trip or within a millisecond.
//   - A second exception, for the same reason: when the event consumers fall behind a
//     fast stream (the reader goroutine queued a batch while they were busy with earlier
//     events and nobody waited), the reader goroutine leaves the socket to them while
//     events are queued. A consumer (RecvEvent and friends, ReceiveEvents) that finds the
//     queue empty then receives the next batch itself, without waiting, routes it as the
//     reader goroutine would, and takes the events from the queue in order; as soon as
//     nothing more can be had without waiting, the socket goes back to the reader
//     goroutine. So a busy stream is parsed and handled on one CPU instead of being handed
//     from one to another. A goroutine that starts waiting for events, a job or a reply
//     brings the reader goroutine back at once. While the consumers keep the socket for
//     longer than a millisecond, it is out of the network poller (whose wake-ups at every
//     arrival of data would only cost the other CPU a context switch each), and the reader
//     goroutine puts it back when it takes over again; when no descriptor is free for
//     that, it goes on in blocking mode.
//   - Writers take a write lock, put an entry on a FIFO of pending requests and write the
//     whole command, under that one lock. FreeSWITCH answers commands in order, so the
//     reader hands each command/reply or api/response to the entry at the head of the
//     FIFO: the goroutine waiting in SendRecv, Api, Execute and friends, or, for a plain
//     Send, the event queue (after Send the reply is read with RecvEvent, as in SWIG).
//   - A caller whose context ends stops waiting; its reply is dropped in order when it
//     arrives, so every later reply still reaches its own caller.
//   - Everything else goes to the event queue that RecvEvent, RecvEventTimed,
//     RecvEventContext, EventStream and ReceiveEvents drain (the events of one batch are queued
//     together, and always before a later reply is handed to its caller); each event is handed out exactly once, to
//     one consumer. Stats reports the queue depth and totals.
//   - The queue is bounded by holding the socket back: once 4,096 events wait, the reader
//     goroutine stops reading until consumers have taken half of them, as a libesl program
//     reads only when it asks for an event; FreeSWITCH holds the rest meanwhile, and drops
//     a listener that falls far behind (some 100,000 events). It reads on regardless while
//     a goroutine waits for a reply or a Job for its result, so an Api call from a
//     consumer never deadlocks; the events read meanwhile are queued beyond the bound. A
//     program that subscribes to events must read them, or it stops receiving.
//   - Disconnect notices are events: a linger notice (Content-Disposition: linger) and the
//     reader keeps going; after a goodbye notice the server closes the socket, the queue
//     ends and RecvEventContext returns ErrDisconnected (RecvEvent a SERVER_DISCONNECTED
//     event).
//   - BACKGROUND_JOB events whose Job-UUID belongs to a Job of BackgroundJob go to that
//     Job, not to the queue.
//   - ReceiveEvents runs its callback on the caller's goroutine, one event at a time, and
//     never while that goroutine holds the socket, so the callback may call any method of
//     the connection (an Api call waits for its reply as anywhere else). A lent event
//     belongs to the callback: handing it to another goroutine needs Clone, since the
//     event is emptied, and its buffer reused, when the callback returns.
//
// # Commands and framing
//
// Commands are built in Go and written whole with one write under the write lock, in
// both link modes. A CR, LF or NUL inside an argument would end the command early on the
// wire and put every later reply out of step; both layers refuse such arguments with
// ErrBadArgument (the twins return nil and record the error for Err). Raw commands given
// to Send and SendRecv may span several lines; a body after the blank line needs a
// matching Content-Length header.
//
// Differences from the SWIG bindings, all deliberate: Api sends no trailing space when
// there is no argument (quirk Q31); SendEvent returns the server's reply rather than
// stale data (Q26); NewEvent("json", bad) returns nil instead of crashing (Q17); a reply
// that arrives after its caller gave up is dropped rather than handed to the next caller
// (Q15); RecvEvent hands out the goodbye notice before SERVER_DISCONNECTED.
//
// # Logging
//
// SetLogLevel is the twin of eslSetLogLevel. Lines of the C library and of this package
// go to log/slog (SetLogger chooses the logger); nothing is logged until SetLogLevel.
package esl
