# SPDX-License-Identifier: GPL-2.0
#
# The foundation's tests, after every component's own (this fragment is
# included after theirs; the VM harness, the slowest, comes last):
#   tests/uapi/	    bitnet.h standalone (C99/C++), layout asserts, x86-64 == i386
#			    (read from objects, never run), and the same on a
#			    host made unable to execute i386
#   tests/style/	    checkpatch over kmod/ and uapi/, clang-format over the
#			    rest of the C, one result per file
#   tests/install/	    make install/uninstall into a scratch DESTDIR
#   tests/debian/	    dpkg-buildpackage in a copy of the tree, lintian, the
#			    packages extracted into a throwaway root
#   tests/vm/selftest/  the VM harness goes red on a WARN_ON, a failing and a
#			    hanging kselftest (one kernel)
#   tests/vm/	    bitnet.ko and the kselftests in qemu on each VM kernel
# docs/testing.md says how to run them alone and what they cost.

# (mk/style.mk adds checkpatch.pl to CHECK_DEPS: it is defined after this.)
CHECK_PROGS	+= tests/uapi/run-uapi-test.sh \
		   tests/uapi/run-no-i386-exec-test.sh \
		   tests/style/run-checkpatch.sh \
		   tests/style/run-clang-format.sh \
		   tests/install/run-install-test.sh \
		   tests/debian/run-deb-test.sh \
		   tests/vm/selftest/run-selftest.sh \
		   tests/vm/run-vm-tests.sh

.PHONY: check-vm
# Only the VM harness (VM_KERNELS=<release> for one kernel).
check-vm:
	@BUILD=$(abspath $(BUILD)) SRC=$(SRC) tests/tap-run.sh tests/vm/run-vm-tests.sh
