/*
 * esl_event.h: events, their headers, and their plain and JSON forms.
 * Part of esl, an implementation of the libesl API.
 */
#ifndef ESL_EVENT_H
#define ESL_EVENT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Insertion modes of esl_event_add_header*; section "header insertion" of the docs. */
typedef enum {
	ESL_STACK_BOTTOM,
	ESL_STACK_TOP,
	ESL_STACK_PUSH,
	ESL_STACK_UNSHIFT
} esl_stack_t;

/* Event types, in the order and with the values every libesl user relies on. */
typedef enum {
	ESL_EVENT_CUSTOM,
	ESL_EVENT_CLONE,
	ESL_EVENT_CHANNEL_CREATE,
	ESL_EVENT_CHANNEL_DESTROY,
	ESL_EVENT_CHANNEL_STATE,
	ESL_EVENT_CHANNEL_CALLSTATE,
	ESL_EVENT_CHANNEL_ANSWER,
	ESL_EVENT_CHANNEL_HANGUP,
	ESL_EVENT_CHANNEL_HANGUP_COMPLETE,
	ESL_EVENT_CHANNEL_EXECUTE,
	ESL_EVENT_CHANNEL_EXECUTE_COMPLETE,
	ESL_EVENT_CHANNEL_HOLD,
	ESL_EVENT_CHANNEL_UNHOLD,
	ESL_EVENT_CHANNEL_BRIDGE,
	ESL_EVENT_CHANNEL_UNBRIDGE,
	ESL_EVENT_CHANNEL_PROGRESS,
	ESL_EVENT_CHANNEL_PROGRESS_MEDIA,
	ESL_EVENT_CHANNEL_OUTGOING,
	ESL_EVENT_CHANNEL_PARK,
	ESL_EVENT_CHANNEL_UNPARK,
	ESL_EVENT_CHANNEL_APPLICATION,
	ESL_EVENT_CHANNEL_ORIGINATE,
	ESL_EVENT_CHANNEL_UUID,
	ESL_EVENT_API,
	ESL_EVENT_LOG,
	ESL_EVENT_INBOUND_CHAN,
	ESL_EVENT_OUTBOUND_CHAN,
	ESL_EVENT_STARTUP,
	ESL_EVENT_SHUTDOWN,
	ESL_EVENT_PUBLISH,
	ESL_EVENT_UNPUBLISH,
	ESL_EVENT_TALK,
	ESL_EVENT_NOTALK,
	ESL_EVENT_SESSION_CRASH,
	ESL_EVENT_MODULE_LOAD,
	ESL_EVENT_MODULE_UNLOAD,
	ESL_EVENT_DTMF,
	ESL_EVENT_MESSAGE,
	ESL_EVENT_PRESENCE_IN,
	ESL_EVENT_NOTIFY_IN,
	ESL_EVENT_PRESENCE_OUT,
	ESL_EVENT_PRESENCE_PROBE,
	ESL_EVENT_MESSAGE_WAITING,
	ESL_EVENT_MESSAGE_QUERY,
	ESL_EVENT_ROSTER,
	ESL_EVENT_CODEC,
	ESL_EVENT_BACKGROUND_JOB,
	ESL_EVENT_DETECTED_SPEECH,
	ESL_EVENT_DETECTED_TONE,
	ESL_EVENT_PRIVATE_COMMAND,
	ESL_EVENT_HEARTBEAT,
	ESL_EVENT_TRAP,
	ESL_EVENT_ADD_SCHEDULE,
	ESL_EVENT_DEL_SCHEDULE,
	ESL_EVENT_EXE_SCHEDULE,
	ESL_EVENT_RE_SCHEDULE,
	ESL_EVENT_RELOADXML,
	ESL_EVENT_NOTIFY,
	ESL_EVENT_PHONE_FEATURE,
	ESL_EVENT_PHONE_FEATURE_SUBSCRIBE,
	ESL_EVENT_SEND_MESSAGE,
	ESL_EVENT_RECV_MESSAGE,
	ESL_EVENT_REQUEST_PARAMS,
	ESL_EVENT_CHANNEL_DATA,
	ESL_EVENT_GENERAL,
	ESL_EVENT_COMMAND,
	ESL_EVENT_SESSION_HEARTBEAT,
	ESL_EVENT_CLIENT_DISCONNECTED,
	ESL_EVENT_SERVER_DISCONNECTED,
	ESL_EVENT_SEND_INFO,
	ESL_EVENT_RECV_INFO,
	ESL_EVENT_RECV_RTCP_MESSAGE,
	ESL_EVENT_SEND_RTCP_MESSAGE,
	ESL_EVENT_CALL_SECURE,
	ESL_EVENT_NAT,
	ESL_EVENT_RECORD_START,
	ESL_EVENT_RECORD_STOP,
	ESL_EVENT_PLAYBACK_START,
	ESL_EVENT_PLAYBACK_STOP,
	ESL_EVENT_CALL_UPDATE,
	ESL_EVENT_FAILURE,
	ESL_EVENT_SOCKET_DATA,
	ESL_EVENT_MEDIA_BUG_START,
	ESL_EVENT_MEDIA_BUG_STOP,
	ESL_EVENT_CONFERENCE_DATA_QUERY,
	ESL_EVENT_CONFERENCE_DATA,
	ESL_EVENT_CALL_SETUP_REQ,
	ESL_EVENT_CALL_SETUP_RESULT,
	ESL_EVENT_CALL_DETAIL,
	ESL_EVENT_DEVICE_STATE,
	ESL_EVENT_TEXT,
	ESL_EVENT_SHUTDOWN_REQUESTED,
	ESL_EVENT_ALL
} esl_event_types_t;

typedef enum {
	ESL_PRIORITY_NORMAL,
	ESL_PRIORITY_LOW,
	ESL_PRIORITY_HIGH
} esl_priority_t;

/* One header of an event. */
typedef struct esl_event_header {
	/* the header name, original case kept */
	char *name;
	/* the value; for an array of 2 or more elements the rendered "ARRAY::e0|:e1|:..." */
	char *value;
	/* element storage of an array header, NULL for a scalar header */
	char **array;
	/* number of elements in array; 0 for a scalar header */
	int idx;
	/* case-insensitive hash of name (h = h * 33 + tolower(c)); 0 means not computed */
	unsigned long hash;
	struct esl_event_header *next;
} esl_event_header_t;

/* An event: a list of headers and an optional body. */
typedef struct esl_event {
	esl_event_types_t event_id;
	esl_priority_t priority;
	char *owner;
	char *subclass_name;
	esl_event_header_t *headers;
	esl_event_header_t *last_header;
	char *body;
	void *bind_user_data;
	void *event_user_data;
	unsigned long key;
	/* links the events of a handle's race_event queue */
	struct esl_event *next;
	int flags;
} esl_event_t;

typedef enum {
	/* adding a header first removes every header of the same name */
	ESL_EF_UNIQ_HEADERS = (1 << 0)
} esl_event_flag_t;

#define ESL_EVENT_SUBCLASS_ANY NULL

/* Creates an event; a subclass is only allowed with CUSTOM or CLONE. */
ESL_DECLARE(esl_status_t) esl_event_create_subclass(esl_event_t **event, esl_event_types_t event_id, const char *subclass_name);
#define esl_event_create(event, id) esl_event_create_subclass(event, id, ESL_EVENT_SUBCLASS_ANY)

ESL_DECLARE(esl_status_t) esl_event_set_priority(esl_event_t *event, esl_priority_t priority);
ESL_DECLARE(const char *) esl_priority_name(esl_priority_t priority);

ESL_DECLARE(esl_event_header_t *) esl_event_get_header_ptr(esl_event_t *event, const char *header_name);
/* idx -1: the value; idx >= 0: element idx of an array header. The name "_body" falls back to the body. */
ESL_DECLARE(char *) esl_event_get_header_idx(esl_event_t *event, const char *header_name, int idx);
#define esl_event_get_header(_e, _h) esl_event_get_header_idx(_e, _h, -1)
ESL_DECLARE(char *) esl_event_get_body(esl_event_t *event);

ESL_DECLARE(esl_status_t) esl_event_add_header(esl_event_t *event, esl_stack_t stack, const char *header_name, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
ESL_DECLARE(esl_status_t) esl_event_add_header_string(esl_event_t *event, esl_stack_t stack, const char *header_name, const char *data);
ESL_DECLARE(int) esl_event_add_array(esl_event_t *event, const char *var, const char *val);

/* Removes every header named header_name (and, when var is non-empty, whose value is var).
 * Returns ESL_SUCCESS whether or not anything was removed, as the original does. */
ESL_DECLARE(esl_status_t) esl_event_del_header_val(esl_event_t *event, const char *header_name, const char *var);
#define esl_event_del_header(_e, _h) esl_event_del_header_val(_e, _h, NULL)

ESL_DECLARE(void) esl_event_destroy(esl_event_t **event);
#define esl_event_safe_destroy(_event) if (_event) esl_event_destroy(_event)

ESL_DECLARE(esl_status_t) esl_event_dup(esl_event_t **event, esl_event_t *todup);
ESL_DECLARE(void) esl_event_merge(esl_event_t *event, esl_event_t *tomerge);

ESL_DECLARE(const char *) esl_event_name(esl_event_types_t event);
ESL_DECLARE(esl_status_t) esl_name_event(const char *name, esl_event_types_t *type);

/* "Name: value\n" lines (values URL-encoded when encode is ESL_TRUE), then the body. Caller frees *str. */
ESL_DECLARE(esl_status_t) esl_event_serialize(esl_event_t *event, char **str, esl_bool_t encode);
/* Pretty-printed JSON object. Caller frees *str. */
ESL_DECLARE(esl_status_t) esl_event_serialize_json(esl_event_t *event, char **str);
/* Parses a JSON object into a new event. Like the original, a parse error returns ESL_SUCCESS
 * without writing *event: initialise *event to NULL and test it. */
ESL_DECLARE(esl_status_t) esl_event_create_json(esl_event_t **event, const char *json);

/* Replaces the body with the formatted text. */
ESL_DECLARE(esl_status_t) esl_event_add_body(esl_event_t *event, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Replaces the body with a copy of body (NULL removes it). */
ESL_DECLARE(esl_status_t) esl_event_set_body(esl_event_t *event, const char *body);

#ifdef __cplusplus
}
#endif

#endif
