# SPDX-License-Identifier: GPL-2.0
#
# bitnetctl: the admin CLI. Uses only libbitnet-client's public API; linked
# with the static library so the binary does not depend on where the shared
# one is installed.

CTL_SRCS	:= tools/ctl/main.c tools/ctl/util.c tools/ctl/loop.c \
		   tools/ctl/cmd-status.c tools/ctl/cmd-models.c tools/ctl/cmd-sessions.c \
		   tools/ctl/cmd-generate.c tools/ctl/cmd-tokenize.c tools/ctl/cmd-bench.c
CTL_OBJS	:= $(CTL_SRCS:%.c=$(BUILD)/obj/%.o)
CTL_BIN		:= $(BUILD)/bin/bitnetctl
BINS		+= $(CTL_BIN)

$(CTL_BIN): $(CTL_OBJS) $(CLIENT_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(CTL_OBJS) $(CLIENT_A) $(CLIENT_LDLIBS) -ljson-c -lm
