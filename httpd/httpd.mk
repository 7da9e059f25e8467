# SPDX-License-Identifier: GPL-2.0
#
# bitnet-httpd: the OpenAI-style HTTP front (libmicrohttpd, json-c) over
# libbitnet-client, linked statically like bitnetctl so the binary does not
# depend on where the shared library is installed.

HTTPD_SRCS	:= httpd/main.c httpd/reply.c httpd/bus.c httpd/info.c httpd/request.c \
		   httpd/completion.c
HTTPD_OBJS	:= $(HTTPD_SRCS:%.c=$(BUILD)/obj/%.o)
HTTPD_BIN	:= $(BUILD)/bin/bitnet-httpd
BINS		+= $(HTTPD_BIN)
DEPS_EXTRA	+= libmicrohttpd-dev curl

$(foreach s,$(HTTPD_SRCS),$(eval CFLAGS_$(subst /,_,$(s:.c=)) := -I$(SRC)/libclient/include))

$(HTTPD_BIN): $(HTTPD_OBJS) $(CLIENT_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(HTTPD_OBJS) $(CLIENT_A) $(CLIENT_LDLIBS) -lmicrohttpd -ljson-c \
		-lpthread

# The real stack: private dbus-daemon, bitnetd with the shared tiny model,
# bitnet-httpd on 127.0.0.1 (tests/integration/httpd/).
CHECK_PROGS	+= $(SRC)/tests/integration/httpd/test-httpd.py \
		   $(SRC)/tests/integration/httpd/test-httpd-units.sh
