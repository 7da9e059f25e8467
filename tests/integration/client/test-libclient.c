// SPDX-License-Identifier: GPL-2.0
/*
 * libbitnet-client against a running daemon: run by test-client.py, which
 * starts a private bus and bitnetd (or, labelled as such, the mock), loads a
 * model and passes BITNET_BUS_ADDRESS and BITNET_TEST_MODEL. Prints TAP.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "libclient/include/bitnet-client.h"
#include "tests/tap.h"

struct stream {
	char text[65536];
	size_t len;
	size_t n_ids;
	int32_t first_id;
	int n_finished;
	char reason[32];
	struct bitnet_finish_stats stats;
	uint64_t finished_request;
};

static void on_token(struct bitnet_session *s, uint64_t request, const int32_t *ids, size_t n_ids,
		     const char *text, void *userdata)
{
	struct stream *st = userdata;
	size_t n = strlen(text);

	(void)s;
	(void)request;
	if (!st->n_ids && n_ids)
		st->first_id = ids[0];
	st->n_ids += n_ids;
	if (st->len + n < sizeof(st->text)) {
		memcpy(st->text + st->len, text, n + 1);
		st->len += n;
	}
}

static void on_finished(struct bitnet_session *s, uint64_t request, const char *reason,
			const struct bitnet_finish_stats *stats, void *userdata)
{
	struct stream *st = userdata;

	(void)s;
	st->n_finished++;
	st->finished_request = request;
	snprintf(st->reason, sizeof(st->reason), "%s", reason);
	st->stats = *stats;
	st->stats.error = NULL;
}

static const struct bitnet_stream_ops ops = { .token = on_token, .finished = on_finished };

/* The caller-side event loop: poll on the fd the library hands out. */
static int run_loop(struct bitnet_client *c, const struct stream *st)
{
	while (!st->n_finished) {
		struct pollfd pfd = { .fd = bitnet_client_get_fd(c),
				      .events = bitnet_client_get_events(c) };
		uint64_t deadline;
		int r = bitnet_client_process(c);

		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (bitnet_client_get_timeout(c, &deadline) < 0 || pfd.fd < 0 || pfd.events < 0)
			return -EIO;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

static bool in_sessions(struct bitnet_client *c, const char *path)
{
	struct bitnet_session_info *s;
	bool found = false;
	size_t n;

	if (bitnet_list_sessions(c, &s, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(s[i].object_path, path) == 0;
	bitnet_sessions_free(s, n);
	return found;
}

/* The owner's unique bus name of session path, from ListSessions. */
static char *session_owner(struct bitnet_client *c, const char *path)
{
	struct bitnet_session_info *s;
	char *owner = NULL;
	size_t n;

	if (bitnet_list_sessions(c, &s, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].object_path, path))
			owner = strdup(s[i].owner);
	bitnet_sessions_free(s, n);
	return owner;
}

/* Another peer sends the session owner a fake Finished for request. */
static int forge_finished(const char *owner, const char *path, uint64_t request)
{
	sd_bus_message *m = NULL;
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, getenv("BITNET_BUS_ADDRESS"));
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_message_new_signal(bus, &m, path, "org.bitnet.Inference1.Session",
					      "Finished");
	if (r >= 0)
		r = sd_bus_message_set_destination(m, owner);
	if (r >= 0)
		r = sd_bus_message_append(m, "tsa{sv}", request, "eos", 0);
	if (r >= 0)
		r = sd_bus_send(bus, m, NULL);
	if (r >= 0)
		r = sd_bus_flush(bus);
	sd_bus_message_unref(m);
	sd_bus_flush_close_unref(bus);
	return r;
}

static void test_errors(struct bitnet_client *c)
{
	struct bitnet_client *bad = NULL;
	struct bitnet_session *s = NULL;
	int r;

	r = bitnet_client_new_address(&bad, "unix:path=/nonexistent/bitnet-test-bus");
	tap_ok(r < 0 && !bad && *bitnet_client_connect_error(),
	       "connecting to a missing bus fails with a message (%d: %s)", r,
	       bitnet_client_connect_error());
	r = bitnet_session_open(c, "no-such-model", 0, &s);
	tap_ok(r == -ENOENT && !s && strstr(bitnet_client_last_error(c), "CreateSession"),
	       "session on an unknown model: -ENOENT, \"%s\"", bitnet_client_last_error(c));
	r = bitnet_kill_session(c, "/org/bitnet/Inference1/session/0");
	tap_ok(r == -ENOENT, "killing an unknown session: -ENOENT (%d: %s)", r,
	       bitnet_client_last_error(c));
	r = bitnet_kill_session(c, "not a path");
	tap_ok(r == -EINVAL, "killing with an invalid path: -EINVAL");
}

static void test_info(struct bitnet_client *c, const char *model)
{
	struct bitnet_model_info info;
	struct bitnet_status st;
	struct bitnet_model *m;
	size_t n, i;
	int r;

	r = bitnet_get_status(c, &st);
	tap_ok(r == 0 && *st.version && (!strcmp(st.backend, "cpu") || !strcmp(st.backend, "kmod")),
	       "status: version \"%s\", backend \"%s\"", r ? "" : st.version, r ? "" : st.backend);
	if (r == 0)
		bitnet_status_clear(&st);
	r = bitnet_list_models(c, &m, &n);
	for (i = 0; r == 0 && i < n; i++)
		if (!strcmp(m[i].name, model))
			break;
	tap_ok(r == 0 && i < n && !strcmp(m[i].state, "ready") && m[i].object_path[0] == '/',
	       "ListModels has %s, ready", model);
	if (r == 0)
		bitnet_models_free(m, n);
	r = bitnet_get_model_info(c, model, &info);
	tap_ok(r == 0 && !strcmp(info.name, model) && info.vocab_size > 0 && info.context_size > 0,
	       "model info: vocab %u, context %u", r ? 0 : info.vocab_size,
	       r ? 0 : info.context_size);
	if (r == 0)
		bitnet_model_info_clear(&info);
}

/*
 * ShareWeights: on the cpu backend (no /dev/bitnet here) the named error;
 * on kmod a unix socket. The attach itself is the VM test's (bitnet-run).
 */
static void test_share(struct bitnet_client *c, const char *model)
{
	struct bitnet_status st;
	bool on_cpu;
	int r, fd = -1;

	r = bitnet_get_status(c, &st);
	on_cpu = r == 0 && !strcmp(st.backend, "cpu");
	if (r == 0)
		bitnet_status_clear(&st);
	r = bitnet_model_share_weights(c, model, &fd);
	if (on_cpu)
		tap_ok(r == -ENODEV && fd == -1 &&
			       strstr(bitnet_client_last_error(c), "/dev/bitnet"),
		       "share weights of a cpu-backend model: -ENODEV, \"%s\"",
		       bitnet_client_last_error(c));
	else
		tap_ok(r == 0 && fd >= 3, "share weights of a kmod-backend model: a socket (%d)",
		       r);
	if (fd >= 0)
		close(fd);
	r = bitnet_model_share_weights(c, "no-such-model", &fd);
	tap_ok(r == -ENOENT && strstr(bitnet_client_last_error(c), "ShareWeights"),
	       "share weights of an unknown model: -ENOENT, \"%s\"", bitnet_client_last_error(c));
	r = bitnet_model_share_weights(c, model, NULL);
	tap_ok(r == -EINVAL, "share weights without an fd pointer: -EINVAL");
}

static void test_tokenizer(struct bitnet_client *c, const char *model)
{
	const char *text = "To be, or not to be";
	int32_t *ids = NULL, *ids2 = NULL;
	size_t n = 0, n2 = 0;
	char *back = NULL;
	int r;

	r = bitnet_tokenize(c, model, text, false, &ids, &n);
	tap_ok(r == 0 && n > 0, "tokenize gives %zu ids", n);
	r = r ? r : bitnet_detokenize(c, model, ids, n, &back);
	tap_ok(r == 0 && back && strstr(back, "To be, or not to be"),
	       "detokenize round trip: \"%s\"", back ? back : "");
	r = bitnet_tokenize(c, model, text, true, &ids2, &n2);
	tap_ok(r == 0 && n2 == n + 1 && !memcmp(ids2 + 1, ids, n * sizeof(*ids)),
	       "add_special prepends exactly one token (BOS %d)", n2 ? ids2[0] : -1);
	free(ids);
	free(ids2);
	free(back);
}

/* Session properties, read by the owner, after one request whose outcome is st. */
static void check_details(struct bitnet_client *c, struct bitnet_session *s, const char *model,
			  const struct stream *st)
{
	struct bitnet_session_details d;
	struct bitnet_model_info info;
	uint32_t n_ctx = 0;
	int r;

	if (bitnet_get_model_info(c, model, &info) == 0) {
		n_ctx = info.context_size;
		bitnet_model_info_clear(&info);
	}
	r = bitnet_session_get_info(c, bitnet_session_get_path(s), &d);
	tap_ok(r == 0 && !strcmp(d.object_path, bitnet_session_get_path(s)) &&
		       !strcmp(d.model, model) && !strcmp(d.state, "idle") && d.uid == getuid() &&
		       d.tokens_generated == st->stats.tokens &&
		       d.context_used == st->stats.prompt_tokens + st->stats.tokens &&
		       d.context_size == n_ctx && n_ctx > 0,
	       "session info: %s, context %u of %u (prompt %u + %u generated), generated %llu",
	       r ? bitnet_client_last_error(c) : d.state, d.context_used, d.context_size,
	       st->stats.prompt_tokens, st->stats.tokens, (unsigned long long)d.tokens_generated);
	if (r == 0)
		bitnet_session_details_clear(&d);
	r = bitnet_session_get_info(c, "/org/bitnet/Inference1/session/0", &d);
	tap_ok(r == -ENOENT && *bitnet_client_last_error(c),
	       "session info of an unknown session: -ENOENT (%d: %s)", r,
	       bitnet_client_last_error(c));
	r = bitnet_session_get_info(c, "not a path", &d);
	tap_ok(r == -EINVAL, "session info with an invalid path: -EINVAL (%d)", r);
}

/* Reads fd to its end into buf; returns the length or -errno. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/*
 * SubmitToFd: the pipe carries the reference greedy continuation (given by
 * test-client.py from ../shared) and Finished follows; closing the pipe
 * early cancels the request on the daemon.
 */
static void test_fd(struct bitnet_client *c, const char *model)
{
	const char *prompt = getenv("BITNET_TEST_REF_PROMPT");
	const char *want = getenv("BITNET_TEST_REF_TEXT");
	const char *count = getenv("BITNET_TEST_REF_TOKENS");
	struct bitnet_session *s = NULL;
	struct bitnet_params *p = NULL;
	static struct stream st;
	static char text[65536];
	uint64_t req = 0;
	ssize_t n = -1;
	int fd = -1, r;
	char byte;

	if (!prompt || !want || !count) {
		printf("ok %d - generate_to_fd # SKIP no reference continuation given\n", ++tap_n);
		return;
	}
	r = bitnet_session_open(c, model, 0, &s);
	if (r == 0)
		r = bitnet_params_new(&p);
	if (r == 0) {
		bitnet_params_set_max_tokens(p, (uint32_t)atoi(count));
		bitnet_params_set_temperature(p, 0.0);
		bitnet_params_set_ignore_eos(p, true);
		r = bitnet_generate_to_fd(s, prompt, p, &ops, &st, &req, &fd);
	}
	if (r == 0)
		n = read_all(fd, text, sizeof(text));
	if (fd >= 0)
		close(fd);
	r = r ? r : run_loop(c, &st);
	tap_ok(r == 0 && n >= 0 && !strcmp(text, want) && st.n_finished == 1 &&
		       st.finished_request == req && !strcmp(st.reason, "length") &&
		       st.stats.tokens == (uint32_t)atoi(count) && st.n_ids == 0,
	       "generate_to_fd: the pipe carries the reference greedy text \"%s\" (want \"%s\"), "
	       "then Finished \"%s\", no Tokens signals (%d)",
	       text, want, st.reason, r);

	bitnet_params_set_max_tokens(p, 200);
	/*
	 * Some text arrived: the request is running when the pipe closes, unless
	 * the daemon made all 200 tokens before this process, on a loaded
	 * machine, got to close it: such an attempt (Finished "length" with all
	 * the tokens) cancelled nothing and is made again, in an emptied context.
	 */
	for (int attempt = 0; attempt < 10; attempt++) {
		if (attempt)
			bitnet_session_reset(s);
		memset(&st, 0, sizeof(st));
		fd = -1;
		r = bitnet_generate_to_fd(s, "Before we proceed any further", p, &ops, &st, &req,
					  &fd);
		n = r == 0 ? read(fd, &byte, 1) : -1;
		if (fd >= 0)
			close(fd);
		r = r ? r : run_loop(c, &st);
		if (r || strcmp(st.reason, "length") || st.stats.tokens != 200)
			break;
	}
	tap_ok(r == 0 && n == 1 && st.n_finished == 1 && !strcmp(st.reason, "cancelled") &&
		       st.stats.tokens < 200,
	       "closing the pipe early: the daemon finishes the request \"%s\" after %u of 200 "
	       "tokens",
	       st.reason, st.stats.tokens);
	r = bitnet_generate_to_fd(s, "x", p, NULL, NULL, NULL, NULL);
	tap_ok(r == -EINVAL, "generate_to_fd without an fd pointer: -EINVAL");
	bitnet_params_free(p);
	bitnet_session_close(s);
}

static void test_generate(struct bitnet_client *c, const char *model)
{
	struct bitnet_session *s = NULL;
	struct bitnet_params *p = NULL;
	struct bitnet_result res = { 0 };
	static struct stream st;
	uint64_t req = 0;
	int r;

	r = bitnet_session_open(c, model, 0, &s);
	tap_ok(r == 0 && s && in_sessions(c, bitnet_session_get_path(s)),
	       "session opened and listed: %s", s ? bitnet_session_get_path(s) : "");
	if (r)
		return;
	bitnet_params_new(&p);
	bitnet_params_set_max_tokens(p, 12);
	bitnet_params_set_temperature(p, 0.0);
	bitnet_params_set_ignore_eos(p, true);
	r = bitnet_generate(s, "First Citizen:", p, &ops, &st, &req);
	r = r ? r : run_loop(c, &st);
	tap_ok(r == 0 && st.n_finished == 1 && st.finished_request == req &&
		       !strcmp(st.reason, "length") && st.stats.tokens == 12 && st.n_ids == 12 &&
		       st.len > 0,
	       "streamed %zu ids in callbacks, Finished \"%s\" with tokens=%u", st.n_ids, st.reason,
	       st.stats.tokens);
	check_details(c, s, model, &st);
	r = bitnet_session_reset(s);
	tap_ok(r == 0, "session reset");
	r = bitnet_generate_blocking(s, "First Citizen:", p, &res);
	tap_ok(r == 0 && !strcmp(res.reason, "length") && res.tokens == 12 &&
		       !strcmp(res.text, st.text),
	       "blocking generate returns the same greedy text: \"%s\"", res.text ? res.text : "");
	bitnet_result_clear(&res);
	{
		/* the daemon checks their D-Bus types: a wrong one is InvalidArgs */
		bool real = getenv("BITNET_TEST_REF_TEXT");
		struct bitnet_params *q = NULL;

		bitnet_params_new(&q);
		bitnet_params_set_max_tokens(q, 12);
		bitnet_params_set_temperature(q, 0.0);
		bitnet_params_set_ignore_eos(q, true);
		bitnet_params_add_stop(q, "\n\n\n\n");
		bitnet_params_add_stop(q, "@@");
		bitnet_params_add_logit_bias(q, st.first_id, -100.0);
		r = bitnet_session_reset(s);
		r = r ? r : bitnet_generate_blocking(s, "First Citizen:", q, &res);
		tap_ok(r == 0 && res.text && (!real || strcmp(res.text, st.text)),
		       "stop strings and a logit bias against the first greedy token %d are taken "
		       "(%d): \"%s\"",
		       st.first_id, r, res.text ? res.text : "");
		bitnet_result_clear(&res);
		bitnet_params_free(q);
	}

	bitnet_params_set_max_tokens(p, 200);
	/*
	 * The daemon may make all 200 tokens before this process, on a loaded
	 * machine, gets its Cancel out: such an attempt (Cancel -ESRCH, Finished
	 * "length" with all the tokens) cancelled nothing and is made again, in
	 * an emptied context.
	 */
	for (int attempt = 0, f = -ENOENT; attempt < 10; attempt++) {
		char *owner;

		if (attempt)
			bitnet_session_reset(s);
		memset(&st, 0, sizeof(st));
		r = bitnet_generate(s, " And then", p, &ops, &st, &req);
		owner = session_owner(c, bitnet_session_get_path(s));
		f = owner ? forge_finished(owner, bitnet_session_get_path(s), req) : -ENOENT;
		free(owner);
		r = r ? r : bitnet_cancel(s, req);
		if (r == -ESRCH && run_loop(c, &st) == 0 && !strcmp(st.reason, "length") &&
		    st.stats.tokens == 200 && attempt < 9)
			continue;
		r = r ? r : run_loop(c, &st);
		tap_ok(f >= 0, "another peer sent the owner a forged Finished (%d)", f);
		break;
	}
	tap_ok(r == 0 && !strcmp(st.reason, "cancelled") && st.stats.tokens < 200 &&
		       st.n_finished == 1,
	       "forged Finished ignored; cancel right after submit: Finished \"%s\" after %u of "
	       "200 tokens",
	       st.reason, st.stats.tokens);
	r = bitnet_cancel(s, req);
	tap_ok(r == -ESRCH, "cancelling a finished request: -ESRCH (%d)", r);

	{
		const struct bitnet_message msgs[] = {
			{ "system", "You are a player." },
			{ "user", "Speak." },
		};

		bitnet_params_set_max_tokens(p, 8);
		r = bitnet_chat_blocking(s, msgs, 2, p, &res);
		tap_ok(r == 0 && res.tokens > 0 && res.tokens <= 8, "chat: %u tokens, \"%s\"",
		       res.tokens, res.reason ? res.reason : "");
		bitnet_result_clear(&res);
	}
	{
		char *path = strdup(bitnet_session_get_path(s));

		r = bitnet_session_close(s);
		tap_ok(r == 0 && !in_sessions(c, path), "session closed and gone from the list");
		free(path);
	}
	bitnet_params_free(p);
}

/* One handle per thread, used concurrently (the documented threading model). */
struct thread_job {
	const char *model;
	int r;
	char *text;
	char *error;
};

static void *thread_generate(void *arg)
{
	struct thread_job *job = arg;
	struct bitnet_session *s = NULL;
	struct bitnet_params *p = NULL;
	struct bitnet_result res = { 0 };
	struct bitnet_client *c;

	job->r = bitnet_client_new_default(&c);
	if (job->r < 0)
		return NULL;
	job->r = bitnet_params_new(&p);
	if (!job->r) {
		bitnet_params_set_max_tokens(p, 8);
		bitnet_params_set_temperature(p, 0.0);
		bitnet_params_set_ignore_eos(p, true);
		job->r = bitnet_session_open(c, job->model, 0, &s);
	}
	if (!job->r)
		job->r = bitnet_generate_blocking(s, "Second Citizen:", p, &res);
	if (!job->r) {
		job->text = res.text;
		res.text = NULL;
	} else {
		job->error = strdup(bitnet_client_last_error(c));
	}
	bitnet_result_clear(&res);
	bitnet_session_close(s);
	bitnet_params_free(p);
	bitnet_client_free(c);
	return NULL;
}

static void test_threads(const char *model)
{
	struct thread_job jobs[3] = { { .model = model }, { .model = model }, { .model = model } };
	bool started[3], good = true;
	pthread_t threads[3];

	for (int i = 0; i < 3; i++) {
		started[i] = !pthread_create(&threads[i], NULL, thread_generate, &jobs[i]);
		if (!started[i])
			jobs[i].r = -EAGAIN;
	}
	for (int i = 0; i < 3; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
		good &= jobs[i].r == 0 && jobs[i].text && !strcmp(jobs[i].text, jobs[0].text);
	}
	tap_ok(good, "3 threads with a handle each generate the same greedy text (%d %d %d: %s)",
	       jobs[0].r, jobs[1].r, jobs[2].r, jobs[0].error ? jobs[0].error : "");
	for (int i = 0; i < 3; i++) {
		free(jobs[i].text);
		free(jobs[i].error);
	}
}

int main(void)
{
	const char *model = getenv("BITNET_TEST_MODEL");
	struct bitnet_client *c;
	int r;

	if (!model || !getenv("BITNET_BUS_ADDRESS")) {
		printf("1..0 # SKIP run by test-client.py (needs BITNET_BUS_ADDRESS and "
		       "BITNET_TEST_MODEL)\n");
		return 0;
	}
	r = bitnet_client_new_default(&c);
	tap_ok(r == 0, "connect to $BITNET_BUS_ADDRESS");
	if (r) {
		tap_plan(tap_n);
		return 1;
	}
	test_errors(c);
	test_info(c, model);
	test_tokenizer(c, model);
	test_share(c, model);
	test_generate(c, model);
	test_fd(c, model);
	test_threads(model);
	bitnet_client_free(c);
	tap_plan(tap_n);
	return tap_exit();
}
