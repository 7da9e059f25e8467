// SPDX-License-Identifier: GPL-2.0
/*
 * One Model object per model the manager has, under
 * /org/bitnet/Inference1/model: its properties (model.h holds the model).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/bus-util.h"
#include "daemon/bitnetd/manager.h"
#include "daemon/bitnetd/model-bus.h"
#include "daemon/bitnetd/model.h"

static int model_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		      void **found, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo;
	char *name = NULL;
	int r;

	(void)bus;
	(void)iface;
	(void)err;
	r = sd_bus_path_decode(path, BNETD_MODEL_PREFIX, &name);
	if (r <= 0)
		return r;
	mo = bnetd_model_find(&d->models, name);
	free(name);
	if (!mo)
		return 0;
	*found = mo;
	return 1;
}

static const char *model_path_of(struct bnetd_list *pos, void *ctx)
{
	(void)ctx;
	return container_of(pos, struct bnetd_model, link)->path;
}

static int model_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
			   sd_bus_error *err)
{
	struct bnetd *d = userdata;

	(void)bus;
	(void)prefix;
	(void)err;
	return bnetd_enumerate_paths(&d->models, model_path_of, NULL, nodes);
}

/* What the engine's model info says, once loaded. */
static int model_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct bnetd_model *mo = userdata;
	const struct bn_model_info *i = mo->info;

	(void)bus;
	(void)path;
	(void)iface;
	(void)err;
	if (!strcmp(prop, "Architecture"))
		return sd_bus_message_append(reply, "s", i ? i->arch : "");
	if (!strcmp(prop, "VocabSize"))
		return sd_bus_message_append(reply, "u", i ? i->n_vocab : 0);
	if (!strcmp(prop, "ContextSize"))
		return sd_bus_message_append(reply, "u", i ? i->n_ctx : 0);
	if (!strcmp(prop, "WeightType"))
		return sd_bus_message_append(reply, "s", i ? i->weight_type : "");
	if (!strcmp(prop, "State"))
		return sd_bus_message_append(reply, "s", bnetd_model_state_name(mo->state));
	if (!strcmp(prop, "LoadProgress"))
		return sd_bus_message_append(reply, "d", (double)mo->progress);
	if (!strcmp(prop, "MemoryBytes"))
		return sd_bus_message_append(reply, "t", i ? i->weight_bytes : (uint64_t)0);
	if (!strcmp(prop, "Parameters"))
		return sd_bus_message_append(reply, "t", i ? i->n_params : (uint64_t)0);
	if (!strcmp(prop, "HeadFormat"))
		return sd_bus_message_append(reply, "s", i && i->head ? i->head : "");
	if (!strcmp(prop, "WeightLayout"))
		return sd_bus_message_append(reply, "s", i && i->pack ? i->pack : "");
	return -ENOENT;
}

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define GPROP(name, sig) SD_BUS_PROPERTY(name, sig, model_prop, 0, EMITS)
/* A char * field of struct bnetd_model (NULL reads as ""): sd-bus reads it. */
#define FPROP(name, field, flags) \
	SD_BUS_PROPERTY(name, "s", NULL, offsetof(struct bnetd_model, field), flags)

static const sd_bus_vtable model_vtable[] = { SD_BUS_VTABLE_START(0),
					      FPROP("Name", name, SD_BUS_VTABLE_PROPERTY_CONST),
					      FPROP("File", file, SD_BUS_VTABLE_PROPERTY_CONST),
					      GPROP("Architecture", "s"),
					      GPROP("VocabSize", "u"),
					      GPROP("ContextSize", "u"),
					      GPROP("WeightType", "s"),
					      GPROP("State", "s"),
					      FPROP("Error", error, EMITS),
					      GPROP("LoadProgress", "d"),
					      GPROP("MemoryBytes", "t"),
					      GPROP("Parameters", "t"),
					      GPROP("HeadFormat", "s"),
					      GPROP("WeightLayout", "s"),
					      SD_BUS_VTABLE_END };

int bnetd_model_bus_register(struct bnetd *d)
{
	return bnetd_bus_add_objects(d->bus, BNETD_MODEL_PREFIX, BNETD_IFACE_MODEL, model_vtable,
				     model_find, model_enumerate, d);
}
