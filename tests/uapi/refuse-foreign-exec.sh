#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# refuse-foreign-exec.sh PROGRAM [ARGS...]: runs PROGRAM only if it is an
# x86-64 ELF (or a script), as a host without IA32 emulation would; an i386
# or any other ELF gets "Exec format error" and exit 126, like execve(2)
# returning ENOEXEC. Tests set BITNET_TEST_EXEC to this to prove they never
# depend on running foreign binaries.
set -u
prog=$1
# e_ident[EI_CLASS] is byte 4, e_machine the little-endian u16 at 18.
head=$(od -An -v -tx1 -N20 "$prog" 2>/dev/null | tr -d ' \n')
if [ "${head:0:8}" = 7f454c46 ] && [ "${head:8:2}${head:36:4}" != 023e00 ]; then
	echo "$prog: cannot execute binary file: Exec format error" \
		"(refused: only x86-64 runs here)" >&2
	exit 126
fi
exec "$@"
