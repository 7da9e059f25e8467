# SPDX-License-Identifier: GPL-2.0
include tools/ctl/ctl.mk
include tools/bench/bench.mk
