// Package esltest provides a fake FreeSWITCH event socket server for
// tests, in the spirit of net/http/httptest.
//
// The server speaks mod_event_socket's wire protocol byte for byte where a
// client can tell: the auth/request greeting, auth and userauth, every
// command with FreeSWITCH's reply texts (typos included), event
// subscriptions and filters, the plain, json and xml event encodings, api
// and bgapi with BACKGROUND_JOB, log/data, sendmsg and sendevent,
// disconnect and linger notices. Fake channels created with `originate`
// (or HandleExtension and DialOutbound) go through the lifecycle a real
// loopback call shows: CHANNEL_CREATE, CHANNEL_ANSWER, CHANNEL_EXECUTE,
// PLAYBACK_START, CHANNEL_HANGUP, CHANNEL_HANGUP_COMPLETE, CHANNEL_DESTROY
// and the rest, with the header names in FreeSWITCH's order.
//
// DialOutbound plays the dialplan `socket` application against an outbound
// (application side) server. Faults, InjectRaw and Stream support hardening
// tests and benchmarks of clients.
//
// Usage:
//
//	srv := esltest.NewServer()
//	defer srv.Close()
//	conn, _ := net.Dial("tcp", srv.Addr())
//	// read "Content-Type: auth/request", then send "auth ClueCon\n\n" ...
//
// The command esltest/cmd/fakefs runs the same server stand-alone.
package esltest
