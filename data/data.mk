# SPDX-License-Identifier: GPL-2.0
#
# data/: files for the system, nothing to build. mk/install.mk installs
# them (paths there); the daemon, D-Bus, polkit and completion files come
# from their owners' directories under data/.
#   udev/60-bitnet.rules	  /dev/bitnet root:bitnet 0660
#   modules-load/bitnet.conf  loads bitnet.ko at boot
#   sysusers/bitnet.conf	  user bitnetd, group bitnet
#   dkms/dkms.conf		  DKMS build of the module source in /usr/src
