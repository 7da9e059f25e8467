// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sessions: opening and closing them, submitting completions and chats,
 * and turning the Tokens/Finished signals into per-request callbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "libclient/internal.h"

#define STATS_FIELD(name, type, member)                               \
	{                                                             \
		name, type, offsetof(struct finish_stats_raw, member) \
	}

/* Finished's stats as read; error is owned here until the callback returns. */
struct finish_stats_raw {
	uint32_t prompt_tokens;
	uint32_t tokens;
	uint32_t cached_tokens;
	double prefill_tps;
	double decode_tps;
	char *error;
};

static const struct prop_desc stats_props[] = { STATS_FIELD("prompt_tokens", 'u', prompt_tokens),
						STATS_FIELD("tokens", 'u', tokens),
						STATS_FIELD("cached_tokens", 'u', cached_tokens),
						STATS_FIELD("prefill_tps", 'd', prefill_tps),
						STATS_FIELD("decode_tps", 'd', decode_tps),
						STATS_FIELD("error", 's', error),
						{ NULL, 0, 0 } };

static struct pending_request *pending_find(struct bitnet_session *session, uint64_t id)
{
	struct pending_request *p;

	for (p = session->pending; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

/* Unlinks the request; the caller frees it. */
static struct pending_request *pending_take(struct bitnet_session *session, uint64_t id)
{
	struct pending_request **pp, *p;

	for (pp = &session->pending; (p = *pp); pp = &p->next) {
		if (p->id == id) {
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

void bcl_session_forget(struct bitnet_session *session, uint64_t request)
{
	free(pending_take(session, request));
}

static void pending_finish(struct bitnet_session *session, struct pending_request *p,
			   const char *reason, const struct bitnet_finish_stats *stats)
{
	if (p->ops && p->ops->finished)
		p->ops->finished(session, p->id, reason, stats, p->userdata);
	free(p);
}

void bcl_session_finish_all(struct bitnet_session *session, const char *reason, const char *error)
{
	const struct bitnet_finish_stats stats = { .error = error ? error : "" };
	struct pending_request *p;

	while ((p = session->pending)) {
		session->pending = p->next;
		pending_finish(session, p, reason, &stats);
	}
}

/*
 * Signals addressed to us can come from any peer; only the daemon instance
 * that created the session may speak for it.
 */
static bool from_daemon(const struct bitnet_session *session, sd_bus_message *m)
{
	const char *sender = sd_bus_message_get_sender(m);

	return sender && session->daemon && strcmp(sender, session->daemon) == 0;
}

static int on_tokens(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct bitnet_session *session = userdata;
	struct pending_request *p;
	const void *ids;
	const char *text;
	uint64_t id;
	size_t size;

	(void)ret_error;
	if (!from_daemon(session, m))
		return 0;
	if (sd_bus_message_read(m, "t", &id) < 0 ||
	    sd_bus_message_read_array(m, 'i', &ids, &size) < 0 ||
	    sd_bus_message_read(m, "s", &text) < 0)
		return 0; /* malformed: not ours to act on */
	p = pending_find(session, id);
	if (p && p->ops && p->ops->token)
		p->ops->token(session, id, ids, size / sizeof(int32_t), text, p->userdata);
	return 0;
}

static int on_finished(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct bitnet_session *session = userdata;
	struct finish_stats_raw raw = { 0 };
	struct bitnet_finish_stats stats;
	struct pending_request *p;
	const char *reason;
	uint64_t id;

	(void)ret_error;
	if (!from_daemon(session, m))
		return 0;
	if (sd_bus_message_read(m, "ts", &id, &reason) < 0)
		return 0;
	p = pending_take(session, id);
	if (!p)
		return 0;
	/* Malformed stats still end the request: keep what could be read. */
	(void)bcl_props_read(m, stats_props, &raw);
	stats = (struct bitnet_finish_stats){
		.prompt_tokens = raw.prompt_tokens,
		.tokens = raw.tokens,
		.cached_tokens = raw.cached_tokens,
		.prefill_tps = raw.prefill_tps,
		.decode_tps = raw.decode_tps,
		.error = raw.error ? raw.error : "",
	};
	pending_finish(session, p, reason, &stats);
	free(raw.error);
	return 0;
}

static int session_add_matches(struct bitnet_session *session)
{
	sd_bus *bus = session->client->bus;
	int r;

	r = sd_bus_match_signal(bus, &session->tokens_slot, BITNET_SERVICE, session->path,
				BITNET_SESSION_IFACE, "Tokens", on_tokens, session);
	if (r >= 0)
		r = sd_bus_match_signal(bus, &session->finished_slot, BITNET_SERVICE, session->path,
					BITNET_SESSION_IFACE, "Finished", on_finished, session);
	return r;
}

int bitnet_session_open(struct bitnet_client *client, const char *model, uint32_t n_ctx,
			struct bitnet_session **out)
{
	struct bitnet_session *session;
	sd_bus_message *reply = NULL;
	const char *path;
	int r;

	if (!client || !model || !out)
		return -EINVAL;
	*out = NULL;
	r = bcl_client_watch_daemon(client);
	if (r < 0)
		return r;
	if (n_ctx)
		r = bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE,
				    "CreateSession", &reply, "sa{sv}", model, 1, "n_ctx", "u",
				    n_ctx);
	else
		r = bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE,
				    "CreateSession", &reply, "sa{sv}", model, 0);
	if (r < 0)
		return r;
	session = calloc(1, sizeof(*session));
	r = sd_bus_message_read(reply, "o", &path);
	if (!session || r < 0) {
		free(session);
		sd_bus_message_unref(reply);
		return bcl_client_fail(client, session ? r : -ENOMEM, "CreateSession's reply");
	}
	session->client = client;
	session->path = strdup(path);
	session->daemon = strdup(sd_bus_message_get_sender(reply) ?: "");
	sd_bus_message_unref(reply);
	r = session->path && session->daemon ? session_add_matches(session) : -ENOMEM;
	session->next = client->sessions;
	client->sessions = session;
	if (r < 0) {
		bcl_client_fail(client, r, "subscribing to the session's signals");
		bitnet_session_close(session);
		return r;
	}
	*out = session;
	return 0;
}

void bcl_session_free(struct bitnet_session *session)
{
	struct bitnet_session **pp;

	for (pp = &session->client->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == session) {
			*pp = session->next;
			break;
		}
	}
	while (session->pending) {
		struct pending_request *p = session->pending;

		session->pending = p->next;
		free(p);
	}
	sd_bus_slot_unref(session->tokens_slot);
	sd_bus_slot_unref(session->finished_slot);
	free(session->path);
	free(session->daemon);
	free(session);
}

int bitnet_session_close(struct bitnet_session *session)
{
	int r = 0;

	if (!session)
		return 0;
	if (session->path) {
		r = bcl_client_call(session->client, session->path, BITNET_SESSION_IFACE, "Close",
				    NULL, NULL);
		/* Already gone (killed, evicted, daemon restarted): closed all the same. */
		if (r == -ENOENT || r == -EHOSTDOWN || r == -ENXIO || r == -EBADR)
			r = 0;
	}
	bcl_session_free(session);
	return r;
}

const char *bitnet_session_get_path(const struct bitnet_session *session)
{
	return session ? session->path : NULL;
}

struct bitnet_client *bitnet_session_get_client(const struct bitnet_session *session)
{
	return session ? session->client : NULL;
}

int bitnet_session_reset(struct bitnet_session *session)
{
	if (!session)
		return -EINVAL;
	return bcl_client_call(session->client, session->path, BITNET_SESSION_IFACE, "Reset", NULL,
			       NULL);
}

/*
 * Sends a Submit/Chat/SubmitToFd call m and registers the request it returns;
 * for SubmitToFd (fd not NULL) also hands out a copy of the returned fd.
 */
static int submit(struct bitnet_session *session, sd_bus_message *m,
		  const struct bitnet_stream_ops *ops, void *userdata, uint64_t *request, int *fd)
{
	struct bitnet_client *client = session->client;
	struct pending_request *p = NULL;
	sd_bus_message *reply = NULL;
	int pipe_fd = -1;
	uint64_t id;
	int r;

	if (ops) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return bcl_client_fail(client, -ENOMEM, "submitting");
	}
	r = bcl_client_send(client, m, &reply);
	if (r < 0) {
		free(p);
		return r;
	}
	r = sd_bus_message_read(reply, "t", &id);
	if (r >= 0 && fd) {
		int received;

		r = sd_bus_message_read(reply, "h", &received);
		/* The message owns the fd it carries. */
		if (r >= 0)
			pipe_fd = fcntl(received, F_DUPFD_CLOEXEC, 3);
		if (r >= 0 && pipe_fd < 0)
			r = -errno;
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		free(p);
		return bcl_client_fail(client, r, "reading the request id");
	}
	/* Registered before any later message is dispatched: no token is lost. */
	if (p) {
		p->id = id;
		p->ops = ops;
		p->userdata = userdata;
		p->next = session->pending;
		session->pending = p;
	}
	if (request)
		*request = id;
	if (fd)
		*fd = pipe_fd;
	return 0;
}

/* Submit, or SubmitToFd when fd is not NULL: both take (prompt, params). */
static int submit_prompt(struct bitnet_session *session, const char *prompt,
			 const struct bitnet_params *params, const struct bitnet_stream_ops *ops,
			 void *userdata, uint64_t *request, int *fd)
{
	const char *member = fd ? "SubmitToFd" : "Submit";
	sd_bus_message *m = NULL;
	int r;

	if (!session || !prompt)
		return -EINVAL;
	r = bcl_client_new_call(session->client, session->path, BITNET_SESSION_IFACE, member, &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "s", prompt);
	if (r >= 0)
		r = bcl_params_append(m, params);
	if (r < 0)
		r = bcl_client_fail(session->client, r, "%s: building the call", member);
	else
		r = submit(session, m, ops, userdata, request, fd);
	sd_bus_message_unref(m);
	return r;
}

int bitnet_generate(struct bitnet_session *session, const char *prompt,
		    const struct bitnet_params *params, const struct bitnet_stream_ops *ops,
		    void *userdata, uint64_t *request)
{
	return submit_prompt(session, prompt, params, ops, userdata, request, NULL);
}

int bitnet_generate_to_fd(struct bitnet_session *session, const char *prompt,
			  const struct bitnet_params *params, const struct bitnet_stream_ops *ops,
			  void *userdata, uint64_t *request, int *fd)
{
	if (!fd)
		return -EINVAL;
	*fd = -1;
	return submit_prompt(session, prompt, params, ops, userdata, request, fd);
}

int bitnet_chat(struct bitnet_session *session, const struct bitnet_message *messages,
		size_t n_messages, const struct bitnet_params *params,
		const struct bitnet_stream_ops *ops, void *userdata, uint64_t *request)
{
	sd_bus_message *m = NULL;
	int r;

	if (!session || (!messages && n_messages))
		return -EINVAL;
	for (size_t i = 0; i < n_messages; i++)
		if (!messages[i].role || !messages[i].content)
			return bcl_client_fail(session->client, -EINVAL, "chat message %zu", i);
	r = bcl_client_new_call(session->client, session->path, BITNET_SESSION_IFACE, "Chat", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(m, 'a', "(ss)");
	for (size_t i = 0; r >= 0 && i < n_messages; i++)
		r = sd_bus_message_append(m, "(ss)", messages[i].role, messages[i].content);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = bcl_params_append(m, params);
	if (r < 0)
		r = bcl_client_fail(session->client, r, "Chat: building the call");
	else
		r = submit(session, m, ops, userdata, request, NULL);
	sd_bus_message_unref(m);
	return r;
}

int bitnet_cancel(struct bitnet_session *session, uint64_t request)
{
	if (!session)
		return -EINVAL;
	return bcl_client_call(session->client, session->path, BITNET_SESSION_IFACE, "Cancel", NULL,
			       "t", request);
}

int bitnet_cancel_async(struct bitnet_session *session, uint64_t request)
{
	sd_bus_message *m = NULL;
	int r;

	if (!session)
		return -EINVAL;
	r = bcl_client_new_call(session->client, session->path, BITNET_SESSION_IFACE, "Cancel", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "t", request);
	if (r >= 0)
		r = sd_bus_message_set_expect_reply(m, 0);
	if (r >= 0)
		r = sd_bus_send(session->client->bus, m, NULL);
	sd_bus_message_unref(m);
	if (r < 0)
		return bcl_client_fail(session->client, r, "Cancel");
	return 0;
}
