// SPDX-License-Identifier: GPL-2.0
/*
 * One Session object per session, at an unguessable path under
 * /org/bitnet/Inference1/session, visible only to the bus name that created
 * it: Submit, SubmitToFd, Chat, Cancel, Reset, Close and its properties
 * (session.h holds the session, request.h its requests).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/bus-util.h"
#include "daemon/bitnetd/manager.h"
#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/params.h"
#include "daemon/bitnetd/request.h"
#include "daemon/bitnetd/session-bus.h"
#include "daemon/bitnetd/session.h"

static int session_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
			void **found, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_session *s = bnetd_sessions_find(&d->sessions, path);

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
	return bnetd_enumerate_paths(&d->sessions.list, session_path_of,
				     sd_bus_get_current_message(bus), nodes);
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
	if (!strcmp(prop, "State"))
		return sd_bus_message_append(reply, "s", bnetd_session_state(s));
	return -ENOENT;
}

/*
 * Tokenizes a prompt for a session. Special-token text is parsed only in
 * what the chat template wrote, never in a caller's raw prompt.
 */
static int tokenize_for(struct bnetd_session *s, const char *text, bool add_bos, bool parse_special,
			int32_t **out, uint32_t *n_out, sd_bus_error *err)
{
	int r = bnetd_model_tokenize(s->model, text, add_bos, parse_special, out, n_out);

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
	r = bnetd_manager_submit(s->manager, s, ids, n, false, &p, fds[1], &id, err);
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
	r = bnetd_manager_submit(s->manager, s, ids, n, true, &p, -1, &id, err);
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
	r = bnetd_request_find(&s->manager->queue, s, id);
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
	bnetd_session_drop_kv(s);
	s->n_ctx_tokens = 0;
	s->evicted = false;
	return sd_bus_reply_method_return(m, "");
}

static int method_close(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd_session *s = userdata;

	(void)err;
	bnetd_manager_close_session(s->manager, s);
	return sd_bus_reply_method_return(m, "");
}

/* A plain field of struct bnetd_session: sd-bus reads it (no getter). */
#define FPROP(name, sig, field, flags) \
	SD_BUS_PROPERTY(name, sig, NULL, offsetof(struct bnetd_session, field), flags)
_Static_assert(sizeof(uid_t) == sizeof(uint32_t), "Uid is 'u'");

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
	FPROP("Owner", "s", owner, SD_BUS_VTABLE_PROPERTY_CONST),
	FPROP("Uid", "u", uid, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", session_prop, 0, 0),
	FPROP("ContextUsed", "u", n_ctx_tokens, 0),
	FPROP("ContextSize", "u", n_ctx, SD_BUS_VTABLE_PROPERTY_CONST),
	FPROP("TokensGenerated", "t", tokens_generated, 0),
	SD_BUS_VTABLE_END
};

int bnetd_session_bus_register(struct bnetd *d)
{
	return bnetd_bus_add_objects(d->bus, BNETD_SESSION_PREFIX, BNETD_IFACE_SESSION,
				     session_vtable, session_find, session_enumerate, d);
}
