// SPDX-License-Identifier: GPL-2.0
/*
 * Client sessions: one Session object each, at an unguessable path, visible
 * only to the bus name that created it. sd_bus_track frees the session, its
 * requests and its KV cache when that name leaves the bus.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "daemon/bitnetd/bitnetd.h"

const char *bnetd_session_state(const struct bnetd_session *s)
{
	if (s->active)
		return "running";
	if (s->n_queued)
		return "queued";
	if (s->evicted)
		return "evicted";
	return "idle";
}

void bnetd_session_state_changed(struct bnetd_session *s)
{
	s->last_used = bnetd_now();
}

bool bnetd_session_visible(struct bnetd_session *s, sd_bus_message *m)
{
	const char *sender;

	if (!m)
		return true;
	sender = sd_bus_message_get_sender(m);
	return sender && !strcmp(sender, s->owner);
}

struct bnetd_session *bnetd_session_find(struct bnetd *d, const char *path)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &d->sessions) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (!s->closed && !strcmp(s->path, path))
			return s;
	}
	return NULL;
}

unsigned int bnetd_sessions_of_uid(struct bnetd *d, uid_t uid)
{
	struct bnetd_list *pos, *tmp;
	unsigned int n = 0;

	bnetd_list_for_each_safe(pos, tmp, &d->sessions) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		n += !s->closed && s->uid == uid;
	}
	return n;
}

static void drop_kv(struct bnetd_session *s)
{
	if (s->seq) {
		bn_seq_free(s->seq);
		s->seq = NULL;
	}
}

void bnetd_sessions_evict_idle(struct bnetd *d, uint64_t now)
{
	uint64_t timeout = (uint64_t)d->cfg.limits.idle_timeout_sec * 1000000ULL;
	struct bnetd_list *pos, *tmp;

	if (!timeout)
		return;
	bnetd_list_for_each_safe(pos, tmp, &d->sessions) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (s->seq && !s->active && !s->n_queued && now - s->last_used >= timeout) {
			drop_kv(s);
			s->evicted = true;
			bnetd_log(LOG_INFO, s->model->name, s->path, "idle: KV cache evicted");
		}
	}
}

int bnetd_session_make_room(struct bnetd *d, size_t need, struct bnetd_session *keep)
{
	uint64_t budget = d->cfg.limits.memory_budget;

	while (budget && bnetd_memory_used(d) + need > budget) {
		struct bnetd_session *lru = NULL;
		struct bnetd_list *pos, *tmp;

		bnetd_list_for_each_safe(pos, tmp, &d->sessions) {
			struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

			if (s != keep && s->seq && !s->active &&
			    (!lru || s->last_used < lru->last_used))
				lru = s;
		}
		if (!lru)
			return -ENOMEM;
		drop_kv(lru);
		lru->evicted = true;
		bnetd_log(LOG_INFO, lru->model->name, lru->path, "KV cache evicted for memory");
	}
	return 0;
}

static void session_free(struct bnetd_session *s)
{
	bnetd_list_del(&s->link);
	drop_kv(s);
	s->model->n_sessions--;
	sd_bus_track_unref(s->track);
	free(s->ctx);
	free(s->path);
	free(s->owner);
	free(s);
}

void bnetd_session_close(struct bnetd_session *s)
{
	struct bnetd *d = s->d;
	struct bnetd_list *pos, *tmp;

	if (!s->closed)
		bnetd_log(LOG_INFO, s->model->name, s->path, "session of %s closed", s->owner);
	s->closed = true;
	bnetd_list_for_each_safe(pos, tmp, &d->queue) {
		struct bnetd_request *r = container_of(pos, struct bnetd_request, link);

		if (r->s == s)
			bnetd_request_finish(r, "cancelled", NULL);
	}
	if (s->active) {
		if (s->active->in_batch) {
			/* the worker is using its sequence: freed after the batch */
			s->active->cancelled = true;
			return;
		}
		bnetd_request_finish(s->active, "cancelled", NULL);
	}
	session_free(s);
	bnetd_status_update(d);
}

static int on_owner_gone(sd_bus_track *track, void *userdata)
{
	struct bnetd_session *s = userdata;

	(void)track;
	if (!s->closed)
		bnetd_session_close(s);
	return 0;
}

int bnetd_session_create(struct bnetd *d, sd_bus_message *m, struct bnetd_model *mo, uint32_t n_ctx,
			 struct bnetd_session **out, sd_bus_error *err)
{
	uint8_t rnd[16];
	char hex[33];
	struct bnetd_session *s;
	uid_t uid;
	int r;

	r = bnetd_sender_uid(m, &uid);
	if (r < 0)
		return r;
	if (d->cfg.limits.max_sessions_per_user &&
	    bnetd_sessions_of_uid(d, uid) >= d->cfg.limits.max_sessions_per_user)
		return sd_bus_error_setf(err, BNETD_ERR_QUOTA,
					 "uid %u has %u sessions, the most allowed", uid,
					 d->cfg.limits.max_sessions_per_user);
	if (n_ctx > mo->info->n_ctx)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "options: 'n_ctx' exceeds the model's %u",
					 mo->info->n_ctx);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		sprintf(hex + 2 * i, "%02x", rnd[i]);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->d = d;
	s->model = mo;
	s->uid = uid;
	s->n_ctx = n_ctx ? n_ctx : mo->info->n_ctx;
	s->owner = strdup(sd_bus_message_get_sender(m));
	r = asprintf(&s->path, "%s/%s", BNETD_SESSION_PREFIX, hex);
	if (r < 0)
		s->path = NULL;
	if (!s->owner || !s->path) {
		free(s->owner);
		free(s->path);
		free(s);
		return -ENOMEM;
	}
	r = sd_bus_track_new(d->bus, &s->track, on_owner_gone, s);
	if (r >= 0)
		r = sd_bus_track_add_name(s->track, s->owner);
	if (r < 0) {
		sd_bus_track_unref(s->track);
		free(s->owner);
		free(s->path);
		free(s);
		return r;
	}
	s->last_used = bnetd_now();
	mo->n_sessions++;
	bnetd_list_add_tail(&s->link, &d->sessions);
	bnetd_log(LOG_INFO, mo->name, s->path, "session for %s (uid %u), %u positions", s->owner,
		  uid, s->n_ctx);
	bnetd_status_update(d);
	*out = s;
	return 0;
}

/* ---- D-Bus ---- */

static int session_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
			void **found, sd_bus_error *err)
{
	struct bnetd_session *s = bnetd_session_find(userdata, path);

	(void)iface;
	if (!strcmp(path, BNETD_SESSION_PREFIX))
		return 0;
	/* another's session looks exactly like one that does not exist */
	if (!s || !bnetd_session_visible(s, sd_bus_get_current_message(bus)))
		return sd_bus_error_setf(err, BNETD_ERR_NO_SUCH_SESSION, "no session %s", path);
	*found = s;
	return 1;
}

/* Only the sessions the calling message may see. */
static const char *session_path_of(struct bnetd_list *pos, void *ctx)
{
	struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

	return s->closed || !bnetd_session_visible(s, ctx) ? NULL : s->path;
}

static int session_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
			     sd_bus_error *err)
{
	struct bnetd *d = userdata;

	(void)prefix;
	(void)err;
	return bnetd_enumerate_paths(&d->sessions, session_path_of, sd_bus_get_current_message(bus),
				     nodes);
}

static int session_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct bnetd_session *s = userdata;

	(void)bus;
	(void)path;
	(void)iface;
	(void)err;
	if (!strcmp(prop, "Model"))
		return sd_bus_message_append(reply, "s", s->model->name);
	if (!strcmp(prop, "Owner"))
		return sd_bus_message_append(reply, "s", s->owner);
	if (!strcmp(prop, "Uid"))
		return sd_bus_message_append(reply, "u", (uint32_t)s->uid);
	if (!strcmp(prop, "State"))
		return sd_bus_message_append(reply, "s", bnetd_session_state(s));
	if (!strcmp(prop, "ContextUsed"))
		return sd_bus_message_append(reply, "u", s->n_ctx_tokens);
	if (!strcmp(prop, "ContextSize"))
		return sd_bus_message_append(reply, "u", s->n_ctx);
	if (!strcmp(prop, "TokensGenerated"))
		return sd_bus_message_append(reply, "t", s->tokens_generated);
	return -ENOENT;
}

int bnetd_tokenize(const struct bn_vocab *v, const char *text, bool add_bos, bool parse_special,
		   int32_t **out, uint32_t *n_out)
{
	size_t len = strlen(text), cap = len + 2;
	int32_t *ids = malloc(cap * sizeof(*ids));
	int n;

	if (!ids)
		return -ENOMEM;
	n = bn_tokenize(v, text, len, add_bos, parse_special, ids, cap);
	if (n >= 0 && (size_t)n > cap) {
		int32_t *t = realloc(ids, (size_t)n * sizeof(*ids));

		if (!t) {
			free(ids);
			return -ENOMEM;
		}
		ids = t;
		n = bn_tokenize(v, text, len, add_bos, parse_special, ids, (size_t)n);
	}
	if (n < 0) {
		free(ids);
		return n;
	}
	*out = ids;
	*n_out = (uint32_t)n;
	return 0;
}

/*
 * Tokenizes a prompt for a session. Special-token text is parsed only in
 * what the chat template wrote, never in a caller's raw prompt.
 */
static int tokenize_for(struct bnetd_session *s, const char *text, bool add_bos, bool parse_special,
			int32_t **out, uint32_t *n_out, sd_bus_error *err)
{
	int r = bnetd_tokenize(bn_model_vocab(s->model->m), text, add_bos, parse_special, out,
			       n_out);

	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "prompt: cannot tokenize (%s)", strerror(-r));
	return 0;
}

static int submit_common(sd_bus_message *m, struct bnetd_session *s, bool to_fd, sd_bus_error *err)
{
	const struct bn_vocab *v = bn_model_vocab(s->model->m);
	struct bnetd_params p;
	const char *prompt;
	int32_t *ids = NULL;
	uint32_t n = 0;
	int fds[2] = { -1, -1 };
	uint64_t id;
	bool add_bos;
	int r;

	r = sd_bus_message_read(m, "s", &prompt);
	if (r < 0)
		return r;
	bnetd_params_init(&p);
	r = bnetd_params_read(m, &p, s->model->info->n_vocab, true, err);
	if (r < 0 || sd_bus_error_is_set(err)) {
		bnetd_params_free(&p);
		return r;
	}
	add_bos = p.add_bos >= 0 ?
			  p.add_bos :
			  bn_vocab_add_bos(v) && !s->n_ctx_tokens && !s->active && !s->n_queued;
	r = tokenize_for(s, prompt, add_bos, false, &ids, &n, err);
	if (r < 0 || sd_bus_error_is_set(err)) {
		bnetd_params_free(&p);
		return r;
	}
	if (to_fd) {
		if (pipe2(fds, O_CLOEXEC) < 0) {
			r = -errno;
			free(ids);
			bnetd_params_free(&p);
			return r;
		}
		/* room for a whole answer: the loop never blocks on a slow reader */
		fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
		fcntl(fds[1], F_SETFL, O_NONBLOCK);
	}
	r = bnetd_request_submit(s, ids, n, false, &p, fds[1], &id, err);
	if (r < 0 || sd_bus_error_is_set(err)) {
		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		return r;
	}
	if (!to_fd)
		return sd_bus_reply_method_return(m, "t", id);
	r = sd_bus_reply_method_return(m, "th", id, fds[0]);
	close(fds[0]);
	return r;
}

static int method_submit(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	return submit_common(m, userdata, false, err);
}

static int method_submit_fd(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	return submit_common(m, userdata, true, err);
}

static int method_chat(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd_session *s = userdata;
	struct bn_chat_msg *msgs = NULL;
	size_t n_msgs = 0;
	struct bnetd_params p;
	const char *role, *content;
	int32_t *ids = NULL;
	uint32_t n = 0;
	char *text;
	uint64_t id;
	int r, error = 0;

	bnetd_params_init(&p);
	r = sd_bus_message_enter_container(m, 'a', "(ss)");
	while (r >= 0 && (r = sd_bus_message_read(m, "(ss)", &role, &content)) > 0) {
		struct bn_chat_msg *t;

		if (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant")) {
			r = sd_bus_error_setf(
				err, SD_BUS_ERROR_INVALID_ARGS,
				"messages: role '%s' is not system, user or assistant", role);
			goto out;
		}
		t = realloc(msgs, (n_msgs + 1) * sizeof(*msgs));
		if (!t) {
			r = -ENOMEM;
			goto out;
		}
		msgs = t;
		msgs[n_msgs].role = role;
		msgs[n_msgs++].content = content;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		goto out;
	if (!n_msgs) {
		r = sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "messages: empty");
		goto out;
	}
	r = bnetd_params_read(m, &p, s->model->info->n_vocab, false, err);
	if (r < 0 || sd_bus_error_is_set(err))
		goto out;
	text = bn_chat_format(s->model->m, msgs, n_msgs, &error);
	if (!text) {
		r = sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
				      "messages: the model's template failed (%s)",
				      strerror(error ? -error : EINVAL));
		goto out;
	}
	/* the template writes special tokens as text; BOS is the vocab's choice */
	r = tokenize_for(s, text, bn_vocab_add_bos(bn_model_vocab(s->model->m)), true, &ids, &n,
			 err);
	free(text);
	if (r < 0 || sd_bus_error_is_set(err))
		goto out;
	free(msgs);
	r = bnetd_request_submit(s, ids, n, true, &p, -1, &id, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	return sd_bus_reply_method_return(m, "t", id);
out:
	free(msgs);
	bnetd_params_free(&p);
	return r;
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd_session *s = userdata;
	struct bnetd_request *r;
	uint64_t id;
	int rc;

	rc = sd_bus_message_read(m, "t", &id);
	if (rc < 0)
		return rc;
	r = bnetd_request_find(s, id);
	if (!r)
		return sd_bus_error_setf(err, BNETD_ERR_NO_SUCH_REQUEST,
					 "no request %" PRIu64 " in this session", id);
	bnetd_request_cancel(r);
	return sd_bus_reply_method_return(m, "");
}

static int method_reset(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd_session *s = userdata;

	if (s->active || s->n_queued)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY,
					 "the session has requests; cancel them first");
	drop_kv(s);
	s->n_ctx_tokens = 0;
	s->evicted = false;
	return sd_bus_reply_method_return(m, "");
}

static int method_close(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	(void)err;
	bnetd_session_close(userdata);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable session_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("Submit", SD_BUS_ARGS("s", prompt, "a{sv}", params),
				SD_BUS_RESULT("t", request), method_submit,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SubmitToFd", SD_BUS_ARGS("s", prompt, "a{sv}", params),
				SD_BUS_RESULT("t", request, "h", fd), method_submit_fd,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Chat", SD_BUS_ARGS("a(ss)", messages, "a{sv}", params),
				SD_BUS_RESULT("t", request), method_chat,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("t", request), SD_BUS_NO_RESULT,
				method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Reset", "", "", method_reset, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Close", "", "", method_close, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("Tokens", SD_BUS_ARGS("t", request, "ai", ids, "s", text), 0),
	SD_BUS_SIGNAL_WITH_ARGS("Finished", SD_BUS_ARGS("t", request, "s", reason, "a{sv}", stats),
				0),
	SD_BUS_PROPERTY("Model", "s", session_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Owner", "s", session_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Uid", "u", session_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", session_prop, 0, 0),
	SD_BUS_PROPERTY("ContextUsed", "u", session_prop, 0, 0),
	SD_BUS_PROPERTY("ContextSize", "u", session_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("TokensGenerated", "t", session_prop, 0, 0),
	SD_BUS_VTABLE_END
};

int bnetd_sessions_register(struct bnetd *d)
{
	int r;

	r = sd_bus_add_fallback_vtable(d->bus, NULL, BNETD_SESSION_PREFIX, BNETD_IFACE_SESSION,
				       session_vtable, session_find, d);
	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(d->bus, NULL, BNETD_SESSION_PREFIX, session_enumerate, d);
}
