// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-run end to end against ../shared/models/tiny-shakespeare-a: its
 * tokenization, greedy --ids and --perplexity output the reference values,
 * a stop string cuts the greedy text, and bad input exits non-zero with a
 * message naming the problem.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/tap.h"

#define OUT_MAX (1 << 16)

static char run[1024], model[1200], dir[1024], tmpf[64] = "/tmp/bn-run-cli-XXXXXX";

/* Runs a shell command; stdout+stderr into @out; returns the exit status. */
static int sh(char *out, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, OUT_MAX - 1, p);
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The first @n ids of "a b c" against a JSON array of ints. */
static bool prefix_ids(const char *text, struct json_object *arr, int n)
{
	const char *p = text;
	char *end;
	int i;

	for (i = 0; i < n; i++) {
		long v = strtol(p, &end, 10);

		if (end == p || v != json_object_get_int(json_object_array_get_idx(arr, i)))
			return false;
		p = end;
	}
	return true;
}

/* "a b c" against a JSON array of ints, from element @from on. */
static bool same_ids(const char *text, struct json_object *arr, int from)
{
	int i, n = (int)json_object_array_length(arr);
	const char *p = text;
	char *end;

	for (i = from; i < n; i++) {
		long v = strtol(p, &end, 10);

		if (end == p || v != json_object_get_int(json_object_array_get_idx(arr, i)))
			return false;
		p = end;
	}
	while (*p == ' ' || *p == '\n')
		p++;
	return *p == 0;
}

/*
 * Five bytes from the middle of the greedy text as the stop string, so that
 * it most likely spans tokens: what is printed is the greedy text up to its
 * first occurrence and a newline, nothing of the stop string or after it.
 */
static void test_stop(char *out)
{
	static char full[OUT_MAX];
	char stopf[64] = "/tmp/bn-run-stop-XXXXXX", stop[6] = "";
	size_t len, pos, cut = 0;
	int fd, rc, rc_full;
	FILE *f;

	rc_full = sh(full, "'%s' '%s' --quiet --temp 0 -n 48 --prompt \"$(cat '%s')\"", run, model,
		     tmpf);
	len = strlen(full);
	/* no newline inside: $(cat) would drop a trailing one */
	for (pos = len / 2; pos + 5 < len && memchr(full + pos, '\n', 5); pos++)
		;
	if (pos + 5 < len) {
		memcpy(stop, full + pos, 5);
		cut = (size_t)(strstr(full, stop) - full);
	}
	fd = mkstemp(stopf);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		fputs(stop, f);
		fclose(f);
	}
	rc = sh(out,
		"'%s' '%s' --quiet --temp 0 -n 48 --stop \"$(cat '%s')\" --prompt \"$(cat '%s')\"",
		run, model, stopf, tmpf);
	tap_ok(!rc_full && !rc && stop[0] && strlen(out) == cut + 1 && !memcmp(out, full, cut) &&
		       out[cut] == '\n',
	       "--stop '%s' (from the middle of the greedy text): the text before it, nothing more",
	       stop);
	unlink(stopf);
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

int main(void)
{
	const char *src = getenv("SRC"), *build = getenv("BUILD");
	static char out[OUT_MAX];
	struct json_object *ref, *p0;
	char path[1200];
	const char *last;
	double want, got;
	FILE *f;
	int fd, rc, stable;

	snprintf(dir, sizeof(dir), "%s/../shared/models/tiny-shakespeare-a", src ? src : ".");
	snprintf(model, sizeof(model), "%s/tiny-shakespeare-a-tq2_0.gguf", dir);
	snprintf(run, sizeof(run), "%s/bin/bitnet-run", build ? build : "build");
	snprintf(path, sizeof(path), "%s/ref/reference.json", dir);
	ref = json_object_from_file(path);
	if (!ref || access(model, R_OK)) {
		printf("1..0 # SKIP ../shared/models/tiny-shakespeare-a missing\n");
		return 0;
	}
	p0 = json_object_array_get_idx(get(ref, "prompts"), 0);
	fd = mkstemp(tmpf);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		printf("1..0 # SKIP cannot create a temporary file\n");
		return 0;
	}
	fputs(json_object_get_string(get(p0, "text")), f);
	fclose(f);
	printf("1..8\n");

	rc = sh(out, "'%s' '%s' --tokenize-file '%s'", run, model, tmpf);
	tap_ok(!rc && same_ids(out, get(p0, "ids"), 0), "--tokenize-file gives the reference ids");
	rc = sh(out, "'%s' '%s' --tokenize-file '%s' --no-bos", run, model, tmpf);
	tap_ok(!rc && same_ids(out, get(p0, "ids"), 1), "--no-bos drops only the BOS");

	rc = sh(out, "'%s' '%s' --quiet --ids --temp 0 -n 32 --prompt \"$(cat '%s')\"", run, model,
		tmpf);
	stable = json_object_get_int(get(get(p0, "actq"), "greedy_stable_prefix"));
	tap_ok(!rc && prefix_ids(out, get(get(p0, "actq"), "greedy_ids"), stable),
	       "--temp 0 --ids: the reference's greedy ids up to the stable prefix (%d)", stable);
	test_stop(out);

	want = json_object_get_double(
		get(get(get(get(ref, "perplexity"), "actq"), "llama_perplexity_method"), "ppl"));
	rc = sh(out, "'%s' '%s' --perplexity '%s/heldout.txt' --ctx 256 --chunks 64 2>&1", run,
		model, dir);
	last = strstr(out, "perplexity: ");
	got = last ? strtod(last + 12, NULL) : NAN;
	/* the last line: nothing after its newline */
	if (last && strchr(last, '\n') && strchr(last, '\n')[1])
		last = NULL;
	tap_ok(!rc && last && fabs(got - want) <= 0.001 * want,
	       "--perplexity: last line 'perplexity: %.4f' (reference %.4f)", got, want);

	rc = sh(out, "'%s' '%s' --quiet --prompt \"$(head -c 4000 '%s/heldout.txt')\" 2>&1", run,
		model, dir);
	tap_ok(rc == 1 && strstr(out, "context"), "a prompt longer than the context: exit 1, "
						  "message names the context");
	rc = sh(out, "'%s' '%s' --quiet --prompt x --temp -1 2>&1", run, model);
	tap_ok(rc != 0 && strstr(out, "temperature"), "--temp -1 refused by name");
	rc = sh(out, "'%s' /nonexistent.gguf --prompt x 2>&1", run);
	tap_ok(rc == 1 && strstr(out, "/nonexistent.gguf"), "a missing model file: exit 1, "
							    "message names the file");
	unlink(tmpf);
	json_object_put(ref);
	return tap_exit();
}
