// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-httpd: options, the listening socket (systemd's, or --listen),
 * and the request router with its body size limit and bearer token check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "httpd/httpd.h"

struct httpd_config httpd_cfg = {
	.max_body = 1 << 20,
	.timeout = 30,
	.max_conns = 256,
};

/* Compares without an early exit so the time taken says nothing of the token. */
static bool token_ok(const char *header)
{
	const char *t = httpd_cfg.token;
	size_t n = strlen(t), m, i;
	unsigned char diff = 0;

	if (!header || strncmp(header, "Bearer ", 7))
		return false;
	header += 7;
	m = strlen(header);
	for (i = 0; i < n; i++)
		diff |= (unsigned char)t[i] ^ (unsigned char)(i < m ? header[i] : 0);
	return diff == 0 && m == n;
}

static enum MHD_Result route(struct MHD_Connection *conn, const char *url, const char *method,
			     struct httpd_req *req)
{
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");

	if (!strcmp(url, "/health") && get)
		return httpd_health(conn);
	if (!strcmp(url, "/metrics") && get)
		return httpd_metrics(conn);
	if (!strcmp(url, "/v1/models") && get)
		return httpd_models(conn);
	if (!strcmp(url, "/v1/completions") && post)
		return httpd_completion(conn, req->body ? req->body : "", req->len, false);
	if (!strcmp(url, "/v1/chat/completions") && post)
		return httpd_completion(conn, req->body ? req->body : "", req->len, true);
	if (!strcmp(url, "/health") || !strcmp(url, "/metrics") || !strcmp(url, "/v1/models") ||
	    !strcmp(url, "/v1/completions") || !strcmp(url, "/v1/chat/completions"))
		return httpd_reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "invalid_request_error",
					 "%s is not allowed on %s", method, url);
	return httpd_reply_error(conn, MHD_HTTP_NOT_FOUND, "not_found_error", "no such path: %s",
				 url);
}

static enum MHD_Result too_large(struct MHD_Connection *conn)
{
	return httpd_reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request_error",
				 "the request body is larger than %zu bytes", httpd_cfg.max_body);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct httpd_req *req = *con_cls;
	const char *cl;

	(void)cls;
	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		if (httpd_cfg.token &&
		    !token_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							  MHD_HTTP_HEADER_AUTHORIZATION)))
			return httpd_reply_error(conn, MHD_HTTP_UNAUTHORIZED,
						 "authentication_error",
						 "a valid bearer token is required");
		/* Refuse a declared oversized body before reading any of it. */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > httpd_cfg.max_body)
			return too_large(conn);
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (req->too_large || req->len + n > httpd_cfg.max_body) {
			/* Chunked bodies: drop the rest, answer at the end. */
			req->too_large = true;
			return MHD_YES;
		}
		if (req->len + n + 1 > req->cap) {
			size_t cap = (req->len + n + 1) * 2;
			char *b = realloc(req->body, cap);

			if (!b)
				return MHD_NO;
			req->body = b;
			req->cap = cap;
		}
		memcpy(req->body + req->len, upload_data, n);
		req->len += n;
		req->body[req->len] = '\0';
		return MHD_YES;
	}
	if (req->too_large)
		return too_large(conn);
	return route(conn, url, method, req);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct httpd_req *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

static int read_token(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "bitnet-httpd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf) {
		fprintf(stderr, "bitnet-httpd: %s: the token file is empty\n", path);
		return -1;
	}
	httpd_cfg.token = strdup(buf);
	return httpd_cfg.token ? 0 : -1;
}

/* "ADDR:PORT" (IPv4, or [IPv6]:PORT) into a sockaddr. */
static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[128];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -1;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
}

static void usage(FILE *f)
{
	fputs("usage: bitnet-httpd [--listen ADDR:PORT] [--bus-address ADDRESS]\n"
	      "                    [--token-file FILE] [--max-body BYTES] [--timeout SEC]\n"
	      "                    [--max-connections N]\n"
	      "Without --listen, serves the socket systemd passes (bitnet-httpd.socket).\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "bus-address", required_argument, NULL, 'b' },
		{ "token-file", required_argument, NULL, 't' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-connections", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_POLL | MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	sigset_t stop;
	int c, fd = -1, n, sig;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			httpd_cfg.listen = optarg;
			break;
		case 'b':
			httpd_cfg.bus = optarg;
			break;
		case 't':
			if (read_token(optarg) < 0)
				return 1;
			break;
		case 'm':
			httpd_cfg.max_body = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			httpd_cfg.timeout = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			httpd_cfg.max_conns = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !httpd_cfg.max_body || !httpd_cfg.max_conns) {
		usage(stderr);
		return 2;
	}
	if (httpd_cfg.listen) {
		if (parse_listen(httpd_cfg.listen, &ss) < 0) {
			fprintf(stderr, "bitnet-httpd: --listen %s: expected ADDR:PORT\n",
				httpd_cfg.listen);
			return 2;
		}
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
	} else {
		n = sd_listen_fds(1);
		if (n != 1) {
			fprintf(stderr, "bitnet-httpd: no --listen and %s\n",
				n < 0 ? strerror(-n) : "not one socket from systemd");
			return 2;
		}
		fd = SD_LISTEN_FDS_START;
	}
	/* A client gone mid-write must not kill the service. */
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before MHD's threads exist, so only sigwait() below sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (fd >= 0)
		d = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, httpd_cfg.timeout,
				     MHD_OPTION_CONNECTION_LIMIT, httpd_cfg.max_conns,
				     MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 * 1024,
				     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, httpd_cfg.timeout,
				     MHD_OPTION_CONNECTION_LIMIT, httpd_cfg.max_conns,
				     MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 * 1024,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bitnet-httpd: cannot listen on %s\n",
			httpd_cfg.listen ? httpd_cfg.listen : "the systemd socket");
		return 1;
	}
	fprintf(stderr, "bitnet-httpd: listening on %s\n",
		httpd_cfg.listen ? httpd_cfg.listen : "the systemd socket");
	sd_notify(0, "READY=1");
	sigwait(&stop, &sig);
	sd_notify(0, "STOPPING=1");
	MHD_stop_daemon(d);
	free(httpd_cfg.token);
	return 0;
}
