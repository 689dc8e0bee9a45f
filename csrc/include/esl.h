/*
 * esl.h: the Event Socket Library, a client for FreeSWITCH's event socket.
 *
 * Part of esl, an independent implementation of the libesl API: the same types, fields,
 * functions and macros, so programs written for libesl build against it unchanged.
 * It differs where the original could fail silently: commands are built without fixed
 * buffers, oversized frames fail with a message in handle->err, err and errnum survive
 * a failed connect, partial writes are completed, and listeners bind the host they are
 * given and can be stopped (see the extensions at the end of this file).
 * POSIX only.
 */
#ifndef ESL_H
#define ESL_H

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <assert.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>
#include <time.h>
#include <sys/time.h>
#include <limits.h>
#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESL_VERSION_MAJOR 1
#define ESL_VERSION_MINOR 0
#define ESL_IMPLEMENTATION "esl"

/* Export macros: plain declarations on POSIX. */
#define ESL_DECLARE(type) type
#define ESL_DECLARE_NONSTD(type) type
#define ESL_DECLARE_DATA

typedef int esl_socket_t;
typedef ssize_t esl_ssize_t;
typedef int esl_filehandle_t;
/* Signed like the original's; ports above 32767 wrap but still work through htons. */
typedef int16_t esl_port_t;
typedef size_t esl_size_t;
#define ESL_SOCK_INVALID -1

typedef enum {
	ESL_SUCCESS,
	ESL_FAIL,
	ESL_BREAK,
	ESL_DISCONNECTED,
	ESL_GENERR
} esl_status_t;

typedef enum {
	ESL_FALSE = 0,
	ESL_TRUE = 1
} esl_bool_t;

typedef enum {
	ESL_POLL_READ = (1 << 0),
	ESL_POLL_WRITE = (1 << 1),
	ESL_POLL_ERROR = (1 << 2)
} esl_poll_t;

/* The encoding of events asked of the server. */
typedef enum {
	ESL_EVENT_TYPE_PLAIN,
	ESL_EVENT_TYPE_XML,
	ESL_EVENT_TYPE_JSON
} esl_event_type_t;

#include "esl_threadmutex.h"
#include "esl_buffer.h"
#include "esl_event.h"
#include "esl_config.h"

/* Largest body accepted from the server. */
#define ESL_MAX_CONTENT_LENGTH (16 * 1024 * 1024)
/* Growth step and start size of the original's receive buffer; kept for source compatibility. */
#define BUF_CHUNK 65536 * 50
#define BUF_START 65536 * 100

/* Expands to an empty vararg list for esl_log. */
#define ESL_VA_NONE "%s", ""

#define esl_copy_string(_x, _y, _z) snprintf(_x, _z, "%s", _y)
#define esl_set_string(_x, _y) esl_copy_string(_x, _y, sizeof(_x))
#define esl_safe_free(_x) if (_x) free(_x); _x = NULL
#define esl_strlen_zero(s) (!(s) || *(s) == '\0')
#define esl_strlen_zero_buf(s) (*(s) == '\0')
#define end_of(_s) *(*(_s) == '\0' ? (_s) : (_s) + strlen(_s) - 1)
#define esl_assert(_x) assert(_x)
#define esl_test_flag(obj, flag) ((obj)->flags & (flag))
#define esl_set_flag(obj, flag) (obj)->flags |= (flag)
#define esl_clear_flag(obj, flag) (obj)->flags &= ~(flag)

/* ANSI terminal sequences, used by console programs. */
#define ESL_SEQ_ESC "\033["
#define ESL_SEQ_HOME_CHAR 'H'
#define ESL_SEQ_HOME_CHAR_STR "H"
#define ESL_SEQ_CLEARLINE_CHAR '1'
#define ESL_SEQ_CLEARLINE_CHAR_STR "1"
#define ESL_SEQ_CLEARLINEEND_CHAR "K"
#define ESL_SEQ_CLEARSCR_CHAR0 '2'
#define ESL_SEQ_CLEARSCR_CHAR1 'J'
#define ESL_SEQ_CLEARSCR_CHAR "2J"
#define ESL_SEQ_DEFAULT_COLOR ESL_SEQ_ESC ESL_SEQ_END_COLOR
#define ESL_SEQ_AND_COLOR ";"
#define ESL_SEQ_END_COLOR "m"
#define ESL_SEQ_F_BLACK "30"
#define ESL_SEQ_F_RED "31"
#define ESL_SEQ_F_GREEN "32"
#define ESL_SEQ_F_YELLOW "33"
#define ESL_SEQ_F_BLUE "34"
#define ESL_SEQ_F_MAGEN "35"
#define ESL_SEQ_F_CYAN "36"
#define ESL_SEQ_F_WHITE "37"
#define ESL_SEQ_B_BLACK "40"
#define ESL_SEQ_B_RED "41"
#define ESL_SEQ_B_GREEN "42"
#define ESL_SEQ_B_YELLOW "43"
#define ESL_SEQ_B_BLUE "44"
#define ESL_SEQ_B_MAGEN "45"
#define ESL_SEQ_B_CYAN "46"
#define ESL_SEQ_B_WHITE "47"
#define ESL_SEQ_FBLACK ESL_SEQ_ESC ESL_SEQ_F_BLACK ESL_SEQ_END_COLOR
#define ESL_SEQ_FRED ESL_SEQ_ESC ESL_SEQ_F_RED ESL_SEQ_END_COLOR
#define ESL_SEQ_FGREEN ESL_SEQ_ESC ESL_SEQ_F_GREEN ESL_SEQ_END_COLOR
#define ESL_SEQ_FYELLOW ESL_SEQ_ESC ESL_SEQ_F_YELLOW ESL_SEQ_END_COLOR
#define ESL_SEQ_FBLUE ESL_SEQ_ESC ESL_SEQ_F_BLUE ESL_SEQ_END_COLOR
#define ESL_SEQ_FMAGEN ESL_SEQ_ESC ESL_SEQ_F_MAGEN ESL_SEQ_END_COLOR
#define ESL_SEQ_FCYAN ESL_SEQ_ESC ESL_SEQ_F_CYAN ESL_SEQ_END_COLOR
#define ESL_SEQ_FWHITE ESL_SEQ_ESC ESL_SEQ_F_WHITE ESL_SEQ_END_COLOR
#define ESL_SEQ_BBLACK ESL_SEQ_ESC ESL_SEQ_B_BLACK ESL_SEQ_END_COLOR
#define ESL_SEQ_BRED ESL_SEQ_ESC ESL_SEQ_B_RED ESL_SEQ_END_COLOR
#define ESL_SEQ_BGREEN ESL_SEQ_ESC ESL_SEQ_B_GREEN ESL_SEQ_END_COLOR
#define ESL_SEQ_BYELLOW ESL_SEQ_ESC ESL_SEQ_B_YELLOW ESL_SEQ_END_COLOR
#define ESL_SEQ_BBLUE ESL_SEQ_ESC ESL_SEQ_B_BLUE ESL_SEQ_END_COLOR
#define ESL_SEQ_BMAGEN ESL_SEQ_ESC ESL_SEQ_B_MAGEN ESL_SEQ_END_COLOR
#define ESL_SEQ_BCYAN ESL_SEQ_ESC ESL_SEQ_B_CYAN ESL_SEQ_END_COLOR
#define ESL_SEQ_BWHITE ESL_SEQ_ESC ESL_SEQ_B_WHITE ESL_SEQ_END_COLOR
#define ESL_SEQ_HOME ESL_SEQ_ESC ESL_SEQ_HOME_CHAR_STR
#define ESL_SEQ_CLEARLINE ESL_SEQ_ESC ESL_SEQ_CLEARLINE_CHAR_STR
#define ESL_SEQ_CLEARLINEEND ESL_SEQ_ESC ESL_SEQ_CLEARLINEEND_CHAR
#define ESL_SEQ_CLEARSCR ESL_SEQ_ESC ESL_SEQ_CLEARSCR_CHAR ESL_SEQ_HOME

/* Logging. */
#define ESL_LOG_LEVEL_EMERG 0
#define ESL_LOG_LEVEL_ALERT 1
#define ESL_LOG_LEVEL_CRIT 2
#define ESL_LOG_LEVEL_ERROR 3
#define ESL_LOG_LEVEL_WARNING 4
#define ESL_LOG_LEVEL_NOTICE 5
#define ESL_LOG_LEVEL_INFO 6
#define ESL_LOG_LEVEL_DEBUG 7

#define ESL_PRE __FILE__, __FUNCTION__, __LINE__
#define ESL_LOG_DEBUG ESL_PRE, ESL_LOG_LEVEL_DEBUG
#define ESL_LOG_INFO ESL_PRE, ESL_LOG_LEVEL_INFO
#define ESL_LOG_NOTICE ESL_PRE, ESL_LOG_LEVEL_NOTICE
#define ESL_LOG_WARNING ESL_PRE, ESL_LOG_LEVEL_WARNING
#define ESL_LOG_ERROR ESL_PRE, ESL_LOG_LEVEL_ERROR
#define ESL_LOG_CRIT ESL_PRE, ESL_LOG_LEVEL_CRIT
#define ESL_LOG_ALERT ESL_PRE, ESL_LOG_LEVEL_ALERT
#define ESL_LOG_EMERG ESL_PRE, ESL_LOG_LEVEL_EMERG

typedef void (*esl_logger_t)(const char *file, const char *func, int line, int level, const char *fmt, ...);
/* The current logger; a logger that does nothing until one is installed. */
ESL_DECLARE_DATA extern esl_logger_t esl_log;
/* Installs logger; NULL restores the do-nothing logger. The level is left alone. */
ESL_DECLARE(void) esl_global_set_logger(esl_logger_t logger);
/* Installs the built-in stderr logger and sets the global level (outside 0..7 becomes 7). */
ESL_DECLARE(void) esl_global_set_default_logger(int level);

typedef void (*esl_listen_callback_t)(esl_socket_t server_sock, esl_socket_t client_sock, struct sockaddr_in *addr, void *user_data);

/* A connection to the event socket. Callers allocate it themselves, zeroed:
 * esl_handle_t h = {{0}}; the layout is the original's. */
typedef struct {
	/* resolved peer address (inbound connect) */
	struct sockaddr_storage sockaddr;
	/* unused, kept for layout */
	struct hostent hostent;
	/* unused, kept for layout */
	char hostbuf[256];
	/* the socket, ESL_SOCK_INVALID when closed */
	esl_socket_t sock;
	/* text of the last error */
	char err[256];
	/* errno of the last socket error, 0 for protocol errors */
	int errnum;
	/* receive buffer and receive state (internal) */
	esl_buffer_t *packet_buf;
	/* scratch space (internal) */
	char socket_buf[65536];
	/* Reply-Text of the most recent message that had one */
	char last_reply[1024];
	/* Reply-Text of the reply matched by the last esl_send_recv* */
	char last_sr_reply[1024];
	/* last message received when no save_event pointer was given */
	esl_event_t *last_event;
	/* reply matched by the last esl_send_recv* */
	esl_event_t *last_sr_event;
	/* FIFO of messages that arrived while waiting for a reply */
	esl_event_t *race_event;
	/* the event decoded from the body of the last message */
	esl_event_t *last_ievent;
	/* channel data returned to connect (outbound mode) */
	esl_event_t *info_event;
	/* 1 while usable */
	int connected;
	/* peer address given to esl_attach_handle */
	struct sockaddr_in addr;
	/* recursive handle lock */
	esl_mutex_t *mutex;
	/* when non-zero, esl_execute adds "async: true" */
	int async_execute;
	/* when non-zero, esl_execute adds "event-lock: true" */
	int event_lock;
	/* 1 after esl_disconnect */
	int destroyed;
} esl_handle_t;

/* Utilities. */
static __inline__ int esl_safe_strcasecmp(const char *s1, const char *s2)
{
	if (!(s1 && s2)) {
		return 1;
	}
	return strcasecmp(s1, s2);
}

/* Percent-encodes url into buf (at most len - 1 characters, never a cut escape); returns the length. */
ESL_DECLARE(size_t) esl_url_encode(const char *url, char *buf, size_t len);
/* Decodes %XX escapes in place; returns a pointer to the end of the string, as the original does. */
ESL_DECLARE(char *) esl_url_decode(char *s);
/* Case-insensitive search for the needle instr in the haystack str (note the order). */
ESL_DECLARE(const char *) esl_stristr(const char *instr, const char *str);
ESL_DECLARE(int) esl_toupper(int c);
ESL_DECLARE(int) esl_tolower(int c);
/* vsnprintf into count - 1 bytes, as the original does (at most count - 2 characters). */
ESL_DECLARE(int) esl_snprintf(char *buffer, size_t count, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
ESL_DECLARE(int) esl_vasprintf(char **ret, const char *fmt, va_list ap);
ESL_DECLARE(unsigned int) esl_separate_string_string(char *buf, const char *delim, char **array, unsigned int arraylen);

/* Connections. */
ESL_DECLARE(esl_status_t) esl_attach_handle(esl_handle_t *handle, esl_socket_t socket, struct sockaddr_in *addr);
ESL_DECLARE(esl_status_t) esl_connect_timeout(esl_handle_t *handle, const char *host, esl_port_t port, const char *user, const char *password, uint32_t timeout);
#define esl_connect(_handle, _host, _port, _user, _password) esl_connect_timeout(_handle, _host, _port, _user, _password, 0)
ESL_DECLARE(esl_status_t) esl_disconnect(esl_handle_t *handle);
ESL_DECLARE(esl_status_t) esl_send(esl_handle_t *handle, const char *cmd);
ESL_DECLARE(esl_status_t) esl_recv_event(esl_handle_t *handle, int check_q, esl_event_t **save_event);
/* ms bounds the whole call, also once a message has started to arrive: when the deadline passes
 * mid-message, ESL_BREAK is returned and the bytes already received are kept for the next call. */
ESL_DECLARE(esl_status_t) esl_recv_event_timed(esl_handle_t *handle, uint32_t ms, int check_q, esl_event_t **save_event);
/* ms bounds the whole wait for the reply. After ESL_BREAK the late reply is dropped when it
 * arrives, so later replies still answer their own commands. */
ESL_DECLARE(esl_status_t) esl_send_recv_timed(esl_handle_t *handle, const char *cmd, uint32_t ms);
#define esl_send_recv(_handle, _cmd) esl_send_recv_timed(_handle, _cmd, 0)
#define esl_recv(_h) esl_recv_event(_h, 0, NULL)
#define esl_recv_timed(_h, _ms) esl_recv_event_timed(_h, _ms, 0, NULL)
ESL_DECLARE(esl_status_t) esl_execute(esl_handle_t *handle, const char *app, const char *arg, const char *uuid);
ESL_DECLARE(esl_status_t) esl_sendevent(esl_handle_t *handle, esl_event_t *event);
ESL_DECLARE(esl_status_t) esl_sendmsg(esl_handle_t *handle, esl_event_t *event, const char *uuid);
ESL_DECLARE(esl_status_t) esl_filter(esl_handle_t *handle, const char *header, const char *value);
ESL_DECLARE(esl_status_t) esl_events(esl_handle_t *handle, esl_event_type_t etype, const char *value);

/* Outbound servers: accept connections and hand each socket to callback. */
ESL_DECLARE(esl_status_t) esl_listen(const char *host, esl_port_t port, esl_listen_callback_t callback, void *user_data, esl_socket_t *server_sockP);
/* Like esl_listen, with one detached thread per connection; max is the listen backlog. */
ESL_DECLARE(esl_status_t) esl_listen_threaded(const char *host, esl_port_t port, esl_listen_callback_t callback, void *user_data, int max);

/* Polls one socket: a mask of ESL_POLL_* that became ready, 0 on timeout, negative on error. */
ESL_DECLARE(int) esl_wait_sock(esl_socket_t sock, uint32_t ms, esl_poll_t flags);

/*
 * Extensions: not in the original libesl. Code that must also build against the
 * original can test for ESL_HAVE_EXTENSIONS.
 */
#define ESL_HAVE_EXTENSIONS 1

/* Default limits of a received message. */
#define ESL_DEFAULT_MAX_HEADER_BLOCK (1024 * 1024)
#define ESL_DEFAULT_MAX_BODY ESL_MAX_CONTENT_LENGTH

/* Sets the limits of this handle's received header blocks and bodies (0 keeps the current value).
 * A message over a limit fails the receive with a message in err and connected = 0. */
ESL_DECLARE(esl_status_t) esl_handle_set_limits(esl_handle_t *handle, esl_size_t max_header_block, esl_size_t max_body);

/* esl_recv_event that never waits, for callers that wait for readability themselves (poll,
 * epoll, an event loop): it takes the next message if one is buffered or can be read at once,
 * and returns ESL_BREAK when there is none. ESL_BREAK comes only after a read found the socket
 * empty, so edge-triggered pollers work too. Other results as esl_recv_event's. */
ESL_DECLARE(esl_status_t) esl_recv_event_nowait(esl_handle_t *handle, int check_q, esl_event_t **save_event);

/*
 * Events read in place. esl_recv_event builds every event libesl's API promises: each header
 * split, decoded, hashed and linked into an esl_event_t. A view receives the same stream but
 * keeps an event as its text, finds a header only when asked for it and decodes only that
 * value, for programs that read a few headers of many events. What a view gives is what
 * esl_event_get_header and esl_event_get_body give on the event esl_recv_event would build.
 * A view belongs to one thread at a time; it may receive from any handle.
 */
typedef struct esl_event_view esl_event_view_t;

/* A new, empty view. ESL_FAIL when memory ran out. */
ESL_DECLARE(esl_status_t) esl_event_view_create(esl_event_view_t **view);
/* Frees the view and sets *view to NULL. */
ESL_DECLARE(void) esl_event_view_destroy(esl_event_view_t **view);
/* Receives the next message into view: as esl_recv_event(handle, 1, NULL) does with ms 0, as
 * esl_recv_event_timed(handle, ms, 1, NULL) does otherwise, and with the same results. An event
 * as FreeSWITCH frames events (text/event-plain or text/event-json) that can be read from its
 * text stays text in the view: no esl_event_t is built, and last_event and last_ievent are
 * NULL. Any other message (a reply, a log line, an event too large or of a rare shape) is
 * received the usual way, into last_event and last_ievent, and the view reads last_ievent.
 * What the view gives stays valid until the next receive into it or on the handle. */
ESL_DECLARE(esl_status_t) esl_recv_event_view(esl_handle_t *handle, uint32_t ms, esl_event_view_t *view);
/* 1 when the last receive gave an event (read in place, or last_ievent); 0 for anything else. */
ESL_DECLARE(int) esl_event_view_has_event(const esl_event_view_t *view);
/* 1 when the event is read in place from its text, 0 when it is last_ievent or none. */
ESL_DECLARE(int) esl_event_view_in_place(const esl_event_view_t *view);
/* The event's type (Event-Name); ESL_EVENT_CUSTOM when there is no event. */
ESL_DECLARE(esl_event_types_t) esl_event_view_id(const esl_event_view_t *view);
/* The first header called name (ASCII case-insensitive), decoded, or NULL; "_body" gives the
 * body when no header has that name, as esl_event_get_header does. */
ESL_DECLARE(const char *) esl_event_view_get_header(esl_event_view_t *view, const char *name);
/* The body, NUL-terminated, or NULL; *len (when len is not NULL) is its length in bytes. */
ESL_DECLARE(const char *) esl_event_view_get_body(esl_event_view_t *view, esl_size_t *len);
/* A new esl_event_t of the event, as esl_recv_event would have built it, for code that needs
 * the whole header list; the caller destroys it. ESL_FAIL with *event NULL when there is no
 * event or memory ran out. */
ESL_DECLARE(esl_status_t) esl_event_view_to_event(esl_event_view_t *view, esl_event_t **event);

/* A listening socket that binds the host it is given (IPv4 or IPv6) and can be stopped. */
typedef struct esl_listener esl_listener_t;

/* Binds host:port (host NULL or "" means every IPv4 address; port 0 picks a free port) and listens.
 * On failure returns ESL_FAIL and writes a message into err (errlen bytes). */
ESL_DECLARE(esl_status_t) esl_listener_create(esl_listener_t **listener, const char *host, esl_port_t port, int backlog, char *err, size_t errlen);
/* The bound port (useful after port 0). */
ESL_DECLARE(int) esl_listener_port(esl_listener_t *listener);
/* The listening socket. */
ESL_DECLARE(esl_socket_t) esl_listener_socket(esl_listener_t *listener);
/* Accepts until esl_listener_stop. threaded 0 calls callback in the accept loop; threaded 1 runs
 * each connection on its own detached thread. max_sessions > 0 bounds the connections being served
 * at once: a connection over the limit is closed at once and counted as refused.
 * Returns ESL_SUCCESS once stopped, ESL_FAIL on an accept error. */
ESL_DECLARE(esl_status_t) esl_listener_serve(esl_listener_t *listener, esl_listen_callback_t callback, void *user_data, int threaded, int max_sessions);
/* Makes esl_listener_serve return; safe from any thread, including a callback. */
ESL_DECLARE(esl_status_t) esl_listener_stop(esl_listener_t *listener);
/* Waits up to ms (0 = forever) until no session thread runs; returns the number still running. */
ESL_DECLARE(int) esl_listener_wait_idle(esl_listener_t *listener, uint32_t ms);
/* Counters: connections accepted, refused over max_sessions, and sessions running now. */
ESL_DECLARE(void) esl_listener_stats(esl_listener_t *listener, uint64_t *accepted, uint64_t *refused, int *active);
/* Closes the socket and frees the listener; call after esl_listener_serve returned and sessions ended. */
ESL_DECLARE(void) esl_listener_destroy(esl_listener_t **listener);

#ifdef __cplusplus
}
#endif

#endif
