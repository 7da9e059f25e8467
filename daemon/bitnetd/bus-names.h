/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service's names on the bus: its well-known name, object paths,
 * interfaces, named errors and polkit actions (docs/dbus-api.md).
 */
#ifndef BITNETD_BUS_NAMES_H
#define BITNETD_BUS_NAMES_H

#define BNETD_BUS_NAME "org.bitnet.Inference1"
#define BNETD_ROOT_PATH "/org/bitnet/Inference1"
#define BNETD_MODEL_PREFIX "/org/bitnet/Inference1/model"
#define BNETD_SESSION_PREFIX "/org/bitnet/Inference1/session"
#define BNETD_IFACE_MANAGER "org.bitnet.Inference1.Manager"
#define BNETD_IFACE_MODEL "org.bitnet.Inference1.Model"
#define BNETD_IFACE_SESSION "org.bitnet.Inference1.Session"

#define BNETD_ERR_NO_SUCH_MODEL "org.bitnet.Inference1.Error.NoSuchModel"
#define BNETD_ERR_NO_SUCH_SESSION "org.bitnet.Inference1.Error.NoSuchSession"
#define BNETD_ERR_NO_SUCH_REQUEST "org.bitnet.Inference1.Error.NoSuchRequest"
#define BNETD_ERR_MODEL_BUSY "org.bitnet.Inference1.Error.ModelBusy"
#define BNETD_ERR_LOAD_FAILED "org.bitnet.Inference1.Error.ModelLoadFailed"
#define BNETD_ERR_QUEUE_FULL "org.bitnet.Inference1.Error.QueueFull"
#define BNETD_ERR_QUOTA "org.bitnet.Inference1.Error.QuotaExceeded"
#define BNETD_ERR_CONTEXT_FULL "org.bitnet.Inference1.Error.ContextFull"
#define BNETD_ERR_NO_MEMORY "org.bitnet.Inference1.Error.OutOfMemory"
#define BNETD_ERR_NOT_ON_DEVICE "org.bitnet.Inference1.Error.NotOnDevice"

#define BNETD_ACTION_MANAGE "org.bitnet.manage"
#define BNETD_ACTION_SHARE "org.bitnet.share-weights"

#endif /* BITNETD_BUS_NAMES_H */
